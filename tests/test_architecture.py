"""The package's layering, checked on its import graph.

``core`` (the turn's types and the store) imports only ``core``; ``understand``, ``paint`` and
``shapeworld`` build on ``core``; the engine, commands, CLI, UI and benchmarks sit on top; nothing
in the app imports ``training``; only ``chatimg.ui`` imports Textual; start-up stays free of torch.
Edges that break a rule today are listed in ``KNOWN`` with why, so the list can only shrink.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "chatimg"

#: Which layers each layer may import (its own always allowed). Leaves: locations, devices.
ALLOWED = {
    "core": set(),
    "shapeworld": {"core"},
    "understand": {"core"},
    "paint": {"core"},
    "engine": {"core", "understand", "paint", "shapeworld"},
    "commands": {"core", "engine"},
    "wiring": {"core", "engine", "understand", "paint", "shapeworld"},
    "ui": {"core", "engine", "commands", "wiring", "understand", "paint", "shapeworld"},
    "cli": {"core", "engine", "commands", "wiring", "understand", "paint", "shapeworld", "ui", "bench", "training"},
    "bench": {"core", "engine", "commands", "wiring", "understand", "paint", "shapeworld", "training", "ui"},
    "training": {"core", "understand", "paint", "shapeworld"},
}
LEAVES = {"locations", "devices", "__init__"}

#: Edges that cross the layering today, and why; the test fails when one disappears, so remove it here.
KNOWN = {
    ("chatimg.shapeworld.checker", "chatimg.paint.masks"): "object masks by colour are shared with the painter",
    ("chatimg.shapeworld.render", "chatimg.paint.masks"): "object masks by colour are shared with the painter",
    ("chatimg.understand.rewriter", "chatimg.shapeworld.edits"): "the shape-world rules are an understander",
    ("chatimg.understand.rewriter", "chatimg.shapeworld"): "typed prompts are read scene to scene",
    ("chatimg.understand.rewriter", "chatimg.shapeworld.ops"): "typed prompts are read scene to scene",
    ("chatimg.understand.llm.rewriter", "chatimg.shapeworld.edits"): "the shape-world rules are an understander",
    ("chatimg.understand.llm.rewriter", "chatimg.shapeworld.strengths"): "edit strengths per shape-world kind",
    ("chatimg.understand.rules.typos", "chatimg.shapeworld.vocab"): "shape words are known words",
    ("chatimg.paint.painter", "chatimg.shapeworld"): "the built-in painter is loaded by the generic loader",
    ("chatimg.paint.painter", "chatimg.shapeworld.builtin"): "the built-in painter is loaded by the generic loader",
    ("chatimg.paint.painter", "chatimg.shapeworld.vocab"): "region edits of shapes",
    ("chatimg.paint.retouch", "chatimg.shapeworld.scene"): "pixel recolours and resizes of shapes",
    ("chatimg.paint.retouch", "chatimg.understand.rules.general"): "colour words of a recolour",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def chatimg_imports(path: Path) -> set[str]:
    """Every chatimg module ``path`` imports, at module level or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("chatimg")}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.startswith("chatimg"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                is_module = (PACKAGE.parent / (candidate.replace(".", "/") + ".py")).is_file() or \
                    (PACKAGE.parent / candidate.replace(".", "/")).is_dir()
                found.add(candidate if is_module else node.module)
    return found


def import_graph() -> dict[str, set[str]]:
    return {module_name(p): chatimg_imports(p) for p in PACKAGE.rglob("*.py")}


def top_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:  # module level only: imports inside functions are lazy by design
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_every_import_follows_the_layering():
    broken, crossing = [], set()
    for module, imports in import_graph().items():
        for imported in imports:
            have, want = layer(module), layer(imported)
            if want in LEAVES or want == have or have in LEAVES and want in LEAVES:
                continue
            if have in LEAVES or want not in ALLOWED.get(have, set()):
                crossing.add((module, imported))
                if (module, imported) not in KNOWN:
                    broken.append(f"{module} -> {imported}")
    assert broken == []
    assert set(KNOWN) - crossing == set(), "an edge in KNOWN is gone: remove it from the list"


def test_nothing_in_the_app_imports_training_and_no_package_code_reads_tests():
    for module, imports in import_graph().items():
        if layer(module) not in ("training", "bench", "cli"):
            assert not {i for i in imports if layer(i) == "training"}, module
    for path in PACKAGE.rglob("*.py"):
        assert '"tests"' not in path.read_text() and "'tests'" not in path.read_text(), path


def test_only_the_ui_package_imports_textual():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] == "ui":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            if any(n.split(".")[0] in ("textual", "textual_image") for n in names):
                offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def test_core_is_pydantic_and_the_standard_library():
    for path in (PACKAGE / "core").rglob("*.py"):
        outside = top_level_imports(path) - {"chatimg", "pydantic", "__future__"} - set(sys.stdlib_module_names)
        assert outside in (set(), {"PIL"}), f"{path.name} imports {outside}"


def test_start_up_modules_do_not_import_heavy_libraries():
    for path in [PACKAGE / "cli.py", PACKAGE / "engine.py", PACKAGE / "commands.py", PACKAGE / "locations.py",
                 *(PACKAGE / "core").rglob("*.py"), PACKAGE / "paint" / "painter.py", PACKAGE / "paint" / "preview.py",
                 PACKAGE / "understand" / "rewriter.py"]:
        heavy = {"torch", "diffusers", "transformers"} & top_level_imports(path)
        assert not heavy, f"{path.name} imports {heavy} at start-up"


def test_no_module_is_over_800_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 800}
    # the hand-written rules and the training data generator are being replaced by the model, not split
    assert set(long) <= {"understand/rules/general.py", "shapeworld/edits.py", "training/rewrite_data.py",
                         "training/painter.py"}, long


def test_cli_help_does_not_load_torch():
    code = "import sys; from chatimg import cli; assert 'torch' not in sys.modules, 'torch loaded'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_help_and_sessions_never_import_torch(tmp_path):
    for args in (["--help"], ["sessions"], ["bench", "--help"], ["bench", "turn", "--help"]):
        code = ("import sys; from chatimg.cli import main; sys.argv = ['chatimg', *sys.argv[1:]]\n"
                "try:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
                "assert 'torch' not in sys.modules, 'torch loaded'")
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "CHATIMG_SESSIONS": str(tmp_path),
                                   "PYTHONPATH": str(PACKAGE.parent)})
        assert done.returncode == 0, (args, done.stderr[-500:])
