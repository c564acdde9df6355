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
    (["run", "--no-llm", "--model", "/definitely/not/here", "x"], "no such model folder: /definitely/not/here"),
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


# -- sessions that cannot be lost or escaped ----------------------------------------------------
def make_session(root: Path, session_id: str, title: str = "a red square") -> Path:
    from chatimg.core.model import Edit, Session, Turn
    from chatimg.core.store import SessionStore

    store = SessionStore(root)
    session = Session(id=session_id)
    turn = Turn(index=0, user=title, edit=Edit(prompt=title), seed=1, steps=2, guidance=0.0)
    turn.image = store.save_image(session, 0, Image.new("RGB", (8, 8), (200, 0, 0)))
    session.add_turn(turn)
    store.save(session)
    return root / session_id


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode != 0 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chatimg: error: "), done.stderr
    return lines[0]


def test_delete_refuses_anything_but_a_session_id_in_the_folder(tmp_path):
    sessions = tmp_path / "parent" / "sessions"
    good = make_session(sessions, "20261203-000000-aaaa")
    others = (tmp_path / "parent", tmp_path / "parent" / "sibling", tmp_path / "abs")
    for folder in others:
        folder.mkdir(exist_ok=True)
        (folder / "session.json").write_text("{}")
    for target in ["..", "../sibling", str(tmp_path / "abs"), "", "20261203"]:
        message = one_line_error(chatimg("sessions", "--sessions-dir", str(sessions), "delete", target))
        assert target != "20261203" or "did you mean 20261203-000000-aaaa" in message
        assert (good / "session.json").is_file() and (good / "turn-000.png").is_file()
        assert all((folder / "session.json").is_file() for folder in others)
    done = chatimg("sessions", "--sessions-dir", str(sessions), "delete", "20261203-000000-aaaa")
    assert done.returncode == 0 and not good.exists() and sessions.is_dir()


def test_one_bad_session_never_hides_the_others(tmp_path):
    make_session(tmp_path, "good")
    bad = {"list": "[]", "null": "null", "format0": '{"format": 0}', "deep": "[" * 50_000 + "]" * 50_000,
           "headless": '{"turns": [], "head": -1}'}
    for name, content in bad.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "session.json").write_text(content)
    done = chatimg("sessions", "--sessions-dir", str(tmp_path))
    assert done.returncode == 0 and "Traceback" not in done.stderr
    rows = {line.split()[0]: line for line in done.stdout.splitlines()[1:]}
    assert "a red square" in rows["good"] and all("damaged:" in rows[name] for name in bad)
    listed = [json.loads(line) for line in chatimg("sessions", "--json", "--sessions-dir", str(tmp_path)).stdout.splitlines()]
    assert {r["id"]: r["damaged"] is None for r in listed} == {"good": True, **{name: False for name in bad}}
    assert "is damaged" in one_line_error(chatimg("export", "deep", str(tmp_path / "x.png"), "--sessions-dir",
                                                  str(tmp_path)))


def test_listing_shows_escape_codes_instead_of_obeying_them(tmp_path):
    make_session(tmp_path, "evil", title="evil \x1b]0;HACKED\x07 \x1b[31mred\x1b[0m")
    done = subprocess.run([sys.executable, "-m", "chatimg.cli", "sessions", "--sessions-dir", str(tmp_path)],
                          capture_output=True, env={**os.environ, "FORCE_COLOR": "1"})
    assert b"\x1b" not in done.stdout and b"\x07" not in done.stdout
    assert b"evil \\x1b]0;HACKED\\x07 \\x1b[31mred" in done.stdout


def test_export_never_reads_or_writes_inside_the_wrong_place(tmp_path):
    sessions = tmp_path / "sessions"
    good = make_session(sessions, "good")
    original = (good / "turn-000.png").read_bytes()
    make_session(sessions, "other")
    message = one_line_error(chatimg("export", "other", str(good / "turn-000.png"), "--sessions-dir", str(sessions)))
    assert "sessions folder" in message and (good / "turn-000.png").read_bytes() == original

    secret = tmp_path / "secret.png"
    secret.write_text("not yours")
    data = json.loads((good / "session.json").read_text())
    data["turns"][0]["image"] = str(secret)
    (sessions / "evil").mkdir()
    (sessions / "evil" / "session.json").write_text(json.dumps(data))
    assert "not a plain file name" in one_line_error(
        chatimg("export", "evil", str(tmp_path / "out.png"), "--sessions-dir", str(sessions)))
    assert not (tmp_path / "out.png").exists()

    (tmp_path / "afile").write_text("x")
    message = one_line_error(chatimg("export", "good", str(tmp_path / "afile" / "x.png"), "--sessions-dir",
                                     str(sessions)))
    assert "not a folder" in message
    done = chatimg("export", "good", str(tmp_path / "out" / "x.png"), "--sessions-dir", str(sessions))
    assert done.returncode == 0 and (tmp_path / "out" / "x.png").read_bytes() == original


def test_doctor_reports_then_fixes(tmp_path):
    good = make_session(tmp_path, "good")
    (good / ".session.json.x.tmp").write_text("half")
    data = json.loads((good / "session.json").read_text())
    data["head"] = 7
    (tmp_path / "headless").mkdir()
    (tmp_path / "headless" / "session.json").write_text(json.dumps({**data, "id": "headless"}))
    (tmp_path / "headless" / "turn-000.png").write_bytes((good / "turn-000.png").read_bytes())
    checked = chatimg("sessions", "--sessions-dir", str(tmp_path), "doctor")
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    assert "damaged  headless: head 7 is not a turn" in checked.stdout and "[--fix: head set to the newest turn]" in checked.stdout
    assert "clutter  good/.session.json.x.tmp" in checked.stdout
    fixed = chatimg("sessions", "--sessions-dir", str(tmp_path), "doctor", "--fix")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    again = chatimg("sessions", "doctor", "--sessions-dir", str(tmp_path))  # either place
    assert again.returncode == 0 and "are fine" in again.stderr
    assert not (good / ".session.json.x.tmp").exists()


@pytest.mark.parametrize("args, message", [
    (["run", "--seed", "99999999999999999999999", "x"], "a seed is at most 4294967295"),
    (["--seed", "4294967296", "run", "x"], "a seed is at most 4294967295"),
    (["run", "--seed", "9" * 5000, "x"], "a seed is at most 4294967295"),
    (["run", "--no-llm", "ok", b"bad \xff utf8"], "TURN 2 is not valid UTF-8 text"),
    (["run", "--resume", "../x", "--no-llm", "x"], "not a session id"),
    (["run", "--resume", "", "--no-llm", "x"], "give a session id"),
])
def test_bad_input_is_one_line_before_any_model_loads(tmp_path, args, message):
    done = subprocess.run([sys.executable, "-m", "chatimg.cli", *args], capture_output=True,
                          env={**os.environ, "CHATIMG_SESSIONS": str(tmp_path)}, timeout=120)
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode != 0 and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1 and message in stderr, stderr
    assert not any(tmp_path.iterdir())  # no session was started


def test_a_broken_model_index_is_named(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model_index.json").write_text("{oops")
    done = chatimg("run", "--no-llm", "--model", str(tmp_path / "model"), "x",
                   env_extra={"CHATIMG_SESSIONS": str(tmp_path / "sessions")})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{tmp_path / 'model' / 'model_index.json'} is not valid JSON" in done.stderr.splitlines()[-1]


@pytest.mark.slow
def test_two_runs_resuming_one_session_never_lose_a_turn(tmp_path, tiny_pipeline_dir):
    sessions = tmp_path / "sessions"
    common = ["--model", str(tiny_pipeline_dir), "--device", "cpu", "--sessions-dir", str(sessions), "--no-llm"]
    first = chatimg("run", "--json", *common, "a red square")
    sid = json.loads(first.stdout)["session"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    racers = [subprocess.Popen([sys.executable, "-m", "chatimg.cli", "run", "--json", "--resume", sid, *common,
                                f"{c} one", f"{c} two", f"{c} three"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env) for c in "ab"]
    reported = []
    for racer in racers:
        out, err = racer.communicate(timeout=300)
        if racer.returncode:
            assert "is open in another chatimg" in err and "Traceback" not in err
        reported += [json.loads(line)["turn"] for line in out.splitlines()]
    saved = json.loads((sessions / sid / "session.json").read_text())["turns"]
    assert sorted(reported) == [t["index"] for t in saved[1:]] and len(reported) in (3, 6)
