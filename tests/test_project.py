"""The project's promises about itself: layout, the README's commands, CI calling them."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_top_level_layout():
    for name in ["pyproject.toml", "README.md", "chatimg", "tests", "prompts", "sessions", ".ci/run", "Makefile"]:
        assert (ROOT / name).exists(), name


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
    assert "make test\n" in blocks, "README must give `make test` as the test command"
    assert "make run\n" in blocks, "README must give `make run` as the set-up-and-start command"
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)


def test_sessions_are_kept_out_of_git():
    ignore = (ROOT / ".gitignore").read_text().splitlines()
    assert "/sessions/*" in ignore
