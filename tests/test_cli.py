"""The command line, in real subprocesses, as a script would use it."""

from __future__ import annotations

import json
import os
import shutil
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


def _photo(path: Path, size=(48, 40)) -> Path:
    import numpy as np

    pixels = np.random.default_rng(1).integers(0, 255, (size[1], size[0], 4), dtype=np.uint8)
    Image.fromarray(pixels, "RGBA").save(path)
    return path


def test_start_from_a_picture_edit_it_read_how_it_was_made_and_share_it(tmp_path, tiny_pipeline_dir):
    sessions = tmp_path / "sessions"
    photo = _photo(tmp_path / "photo.png")
    common = ["--model", str(tiny_pipeline_dir), "--device", "cpu", "--sessions-dir", str(sessions), "--no-llm"]
    done = chatimg("run", "--json", "--seed", "4", *common, "--image", str(photo), "a blue photo", "a green photo")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert [r["turn"] for r in records] == [0, 1, 2] and records[0]["mode"] == "import"
    assert Image.open(records[0]["image"]).size == (48, 40) and records[1]["mode"] != "txt2img"
    assert (Path(records[0]["image"]).parent / "original.png").read_bytes() == photo.read_bytes()

    with Image.open(records[2]["image"]) as image:
        parameters, lineage = image.text["parameters"], json.loads(image.text["chatimg"])
    assert parameters.startswith("a green photo\n") and "Seed: 4" in parameters and "Steps: " in parameters
    assert lineage["user"] == "a green photo" and lineage["parent"] == 1
    shown = chatimg("info", records[2]["image"])
    assert shown.returncode == 0 and "a green photo" in shown.stdout and "Seed: 4" in shown.stdout
    assert "trainedAlgorithmicMedia" in shown.stdout
    plain = chatimg("info", str(photo))
    assert plain.returncode == 0 and "no provenance" in plain.stdout

    session = records[0]["session"]
    for name in ["talk.gif", "talk.md", "talk.webp"]:
        out = chatimg("export", session, str(tmp_path / name), "--sessions-dir", str(sessions))
        assert out.returncode == 0, out.stderr
    sheet = chatimg("export", session, str(tmp_path), "--format", "sheet", "--sessions-dir", str(sessions))
    assert Image.open(sheet.stdout.strip()).format == "PNG"
    assert Image.open(tmp_path / "talk.gif").n_frames == 3
    page = (tmp_path / "talk.md").read_text()
    assert all(f"talk-turn-00{n}.png" in page for n in range(3))
    again = chatimg("export", session, str(tmp_path / "talk.gif"), "--sessions-dir", str(sessions))
    assert again.returncode != 0 and "--force" in again.stderr
    stripped = chatimg("export", session, str(tmp_path / "plain.png"), "--strip", "--sessions-dir", str(sessions))
    assert stripped.returncode == 0 and "no provenance" in chatimg("info", str(tmp_path / "plain.png")).stdout

    replayed = chatimg("replay", session, "--json", *common[:-1])  # the opened picture comes from the session
    assert replayed.returncode == 0, replayed.stderr
    copies = [json.loads(line) for line in replayed.stdout.strip().splitlines()]
    assert copies[0]["mode"] == "import" and Image.open(copies[0]["image"]).size == (48, 40)
    assert Image.open(copies[2]["image"]).tobytes() == Image.open(records[2]["image"]).tobytes()
    kept = tmp_path / "kept.png"
    kept.write_bytes(Path(records[2]["image"]).read_bytes())
    shutil.rmtree(sessions / session)
    gone = chatimg("replay", str(kept), *common[:-1])
    assert gone.returncode != 0 and "--image" in gone.stderr
    again = chatimg("replay", str(kept), "--json", "--image", str(photo), *common[:-1])
    assert again.returncode == 0, again.stderr
    last = json.loads(again.stdout.strip().splitlines()[-1])
    assert Image.open(last["image"]).tobytes() == Image.open(kept).tobytes()


def test_replay_rebuilds_a_conversation_from_a_png_when_its_session_is_gone(tmp_path, tiny_pipeline_dir):
    sessions = tmp_path / "sessions"
    common = ["--model", str(tiny_pipeline_dir), "--device", "cpu", "--sessions-dir", str(sessions)]
    done = chatimg("run", "--json", "--seed", "2", "--no-llm", *common, "a red square", "a blue square")
    records = [json.loads(line) for line in done.stdout.strip().splitlines()]
    kept = tmp_path / "kept.png"
    kept.write_bytes(Path(records[1]["image"]).read_bytes())
    shutil.rmtree(sessions / records[0]["session"])
    replayed = chatimg("replay", str(kept), "--json", *common)
    assert replayed.returncode == 0, replayed.stderr
    copies = [json.loads(line) for line in replayed.stdout.strip().splitlines()]
    assert [c["prompt"] for c in copies] == ["a red square", "a blue square"]
    assert Image.open(copies[1]["image"]).tobytes() == Image.open(kept).tobytes()
    plain = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(plain)
    refused = chatimg("replay", str(plain), *common)
    assert refused.returncode != 0 and "no chatimg lineage" in refused.stderr


def test_every_bad_picture_is_one_line_nonzero_and_creates_no_session(tmp_path):
    sessions = tmp_path / "sessions"
    (sessions / "old").mkdir(parents=True)
    inside = _photo(sessions / "old" / "turn-000.png")
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    bomb = tmp_path / "bomb.png"
    Image.new("1", (9000, 9000)).save(bomb)
    before = sorted(p.name for p in sessions.rglob("*"))
    for path, message in [(tmp_path / "missing.png", "no such file"), (not_image, "not an image"),
                          (bomb, "megapixels"), (inside, "inside the sessions folder"), (tmp_path, "not a file")]:
        for args in (["run", "--json", "--no-llm", "--image", str(path), "x"], ["--image", str(path)]):
            done = chatimg(*args, "--sessions-dir", str(sessions))
            assert done.returncode != 0, (args, done.stdout)
            assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
            assert done.stdout == ""
    assert sorted(p.name for p in sessions.rglob("*")) == before


def test_info_refuses_what_is_not_an_image(tmp_path):
    text = tmp_path / "a.png"
    text.write_text("x")
    for path in [text, tmp_path / "missing.png"]:
        done = chatimg("info", str(path))
        assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1


def test_info_json_reads_a_png_written_by_another_tool(tmp_path):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", "a castle\nNegative prompt: fog\nSteps: 20, Sampler: Euler a, Seed: 7, Size: 8x8")
    info.add_text("Software", "someone else")
    path = tmp_path / "a1111.png"
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    done = chatimg("info", "--json", str(path))
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["parameters"].startswith("a castle") and found["chatimg"] is None and not found["ai_generated"]
    assert found["text"] == {"Software": "someone else"} and found["size"] == [8, 8]
    shown = chatimg("info", str(path))
    assert "Negative prompt: fog" in shown.stdout and "Software: someone else" in shown.stdout
