"""The command line, in real subprocesses, as a script would use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

REQUIRED_KEYS = {"turn", "user", "prompt", "instruction", "strength", "seed", "image", "rewrite_s", "paint_s", "session"}


def chatimg(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "chatimg.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_run_json_end_to_end_then_resume(tmp_path, tiny_pipeline_dir):
    sessions = tmp_path / "sessions"
    common = ["--model", str(tiny_pipeline_dir), "--device", "cpu", "--sessions-dir", str(sessions), "--no-llm"]
    done = chatimg("run", "--json", "--seed", "5", *common, "a red square", "a blue square")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2  # exactly one JSON object per turn, logs on stderr
    records = [json.loads(line) for line in lines]
    assert all(REQUIRED_KEYS <= r.keys() for r in records)
    assert [r["turn"] for r in records] == [0, 1] and records[1]["prompt"] == "a blue square"
    assert records[0]["seed"] == records[1]["seed"] == 5
    assert records[0]["session"] == records[1]["session"]
    assert [(r["source"], r["intent"]) for r in records] == [("direct", "restart"), ("direct", "paint")]
    assert records[1]["ops"] == [{"op": "recolour", "target": "red square", "colour": "blue"}]
    for r in records:
        assert Path(r["image"]).is_absolute() and Image.open(r["image"]).size == (32, 32)

    listed = chatimg("sessions", "--json", "--sessions-dir", str(sessions))
    entry = json.loads(listed.stdout.strip().splitlines()[0])
    assert entry["id"] == records[0]["session"] and entry["turns"] == 2

    more = chatimg("run", "--json", "--resume", "latest", *common, "a green square")
    third = json.loads(more.stdout.strip())
    assert third["turn"] == 2 and third["session"] == records[0]["session"] and third["seed"] == 5

    replayed = chatimg("replay", records[0]["session"], "--json", "--model", str(tiny_pipeline_dir),
                       "--device", "cpu", "--sessions-dir", str(sessions))
    assert replayed.returncode == 0, replayed.stderr
    copies = [json.loads(line) for line in replayed.stdout.strip().splitlines()]
    assert len(copies) == 3 and copies[0]["session"] != records[0]["session"]
    originals = records + [third]
    for original, copy in zip(originals, copies):
        assert copy["prompt"] == original["prompt"]
        assert Image.open(copy["image"]).tobytes() == Image.open(original["image"]).tobytes()

    out = tmp_path / "export.png"
    exported = chatimg("export", records[0]["session"], str(out), "--sessions-dir", str(sessions))
    assert exported.returncode == 0 and Image.open(out).size == (32, 32)


def test_options_given_before_the_command_apply_to_it(tmp_path, tiny_pipeline_dir):
    sessions = tmp_path / "elsewhere"
    done = chatimg("--sessions-dir", str(sessions), "--model", str(tiny_pipeline_dir), "--no-llm", "--seed", "7",
                   "run", "--json", "--device", "cpu", "a red square")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout.strip())
    assert Path(record["image"]).is_relative_to(sessions) and record["seed"] == 7
    listed = chatimg("--sessions-dir", str(sessions), "sessions", "--json")
    assert json.loads(listed.stdout.strip().splitlines()[0])["id"] == record["session"]


@pytest.mark.parametrize("args, message", [
    (["run", "--resume", "nope", "--no-llm", "x"], "no session"),
    (["run", "--no-llm", "--model", "/definitely/not/here", "x"], "cannot load painter"),
    (["run", "--no-llm", "--rewrite-only", "x"], "would do nothing"),
    (["run", "--steps", "0", "x"], "Invalid value"),
])
def test_bad_input_is_one_line_and_nonzero(tmp_path, args, message):
    done = chatimg(*args, env_extra={"CHATIMG_SESSIONS": str(tmp_path)})
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_help_teaches():
    done = chatimg("--help")
    assert done.returncode == 0
    for word in ["--resume", "--model", "--llm", "--device", "run", "sessions", "Examples"]:
        assert word in done.stdout
