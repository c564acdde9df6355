"""The core stays free of the UI: only chatimg.ui may import Textual, and nothing
heavy (torch, diffusers, transformers) is imported at module level where start-up time matters."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "chatimg"


def top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in tree.body:  # module level only: imports inside functions are lazy by design
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def all_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_ui_package_imports_textual():
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if "ui" not in p.relative_to(PACKAGE).parts[:1] and
                 {"textual", "textual_image"} & all_imports(p)]
    assert offenders == []


def test_start_up_modules_do_not_import_heavy_libraries():
    for name in ["cli.py", "session.py", "store.py", "chat.py", "commands.py", "painter.py", "preview.py",
                 "rewriter.py", "locations.py"]:
        heavy = {"torch", "diffusers", "transformers"} & top_level_imports(PACKAGE / name)
        assert not heavy, f"{name} imports {heavy} at start-up"


def test_cli_help_does_not_load_torch():
    code = "import sys; from chatimg import cli; assert 'torch' not in sys.modules, 'torch loaded'"
    subprocess.run([sys.executable, "-c", code], check=True)
