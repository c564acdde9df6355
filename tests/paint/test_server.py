"""Painting on an AUTOMATIC1111 / Forge / SD.Next server (``--model http://host:port``), against
a local server that speaks ``sdapi/v1``."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from click.testing import CliRunner

from chatimg.cli import cli
from chatimg.core.model import Edit
from chatimg.core.store import SessionStore
from chatimg.engine import ChatEngine
from chatimg.paint.painter import PaintCancelled, PainterError, PaintRequest
from chatimg.paint.server import SdapiPainter, load_server_painter
from tests.fake_servers import COLOURS, FakeSdapi, from_b64, serve


class Scripted:
    """A rewriter that answers the next edit of a list."""

    name = "scripted"

    def __init__(self, *edits: Edit) -> None:
        self.edits = list(edits)

    def rewrite(self, message, *, prompt, history=()):
        return self.edits.pop(0)


def posts(requests, endpoint):
    return [body for method, path, body in requests if method == "POST" and path == f"/sdapi/v1/{endpoint}"]


def test_a_conversation_paints_on_the_server(tmp_path):
    with serve(FakeSdapi()) as (url, requests):
        painter = load_server_painter(url)
        assert isinstance(painter, SdapiPainter) and painter.checkpoint == "fake-sd15.safetensors"
        rewriter = Scripted(Edit(prompt="a red square", strength=1.0, reply="ok"),
                            Edit(prompt="a green square", strength=0.55, reply="ok"),
                            Edit(prompt="a blue square", strength=0.7, region="left", reply="ok"))
        engine = ChatEngine(SessionStore(tmp_path), rewriter_factory=lambda s: rewriter,
                            painter_factory=lambda s: painter, model_name=url)
        engine.set_setting("seed", 42)
        first = engine.run_turn("a red square")
        second = engine.run_turn("make it green")
        third = engine.run_turn("the left half blue")

    [t2i] = posts(requests, "txt2img")
    assert (t2i["prompt"], t2i["seed"], t2i["steps"], t2i["cfg_scale"]) == ("a red square", 42, 20, 7.0)
    assert "width" not in t2i  # the server's own default size
    assert first.turn.mode == "txt2img" and first.image.size == (512, 512)
    assert first.image.getpixel((10, 10)) == COLOURS["red"]

    whole, region = posts(requests, "img2img")
    assert whole["denoising_strength"] == 0.55 and "mask" not in whole
    assert np.array_equal(np.asarray(from_b64(whole["init_images"][0])), np.asarray(first.image))
    assert second.turn.mode == "img2img" and second.image.getpixel((256, 256)) == COLOURS["green"]

    # A region: the server inpaints under a mask; outside it the previous picture stays exactly.
    mask = np.asarray(from_b64(region["mask"]).convert("L"))
    assert region["inpainting_fill"] == 1 and mask[256, 50] == 255 and mask[256, 500] == 0
    assert third.turn.mode == "inpaint"
    out = np.asarray(third.image)
    assert tuple(out[256, 110]) == COLOURS["blue"]
    assert np.array_equal(out[:, 300:], np.asarray(second.image)[:, 300:])


def test_cancelling_interrupts_the_server():
    server = FakeSdapi(delay=3.0, steps=6)
    with serve(server) as (url, _):
        painter = load_server_painter(url)
        cancel = threading.Event()
        steps = []

        def on_step(update):
            steps.append(update.step)
            cancel.set()

        with pytest.raises(PaintCancelled):
            painter.paint(PaintRequest(prompt="a red square", seed=1), on_step=on_step, cancel=cancel)
        assert server.interrupted.is_set() and steps


def test_an_unreachable_server_is_one_clear_line(tmp_path):
    with serve(FakeSdapi()) as (url, _):
        pass  # the port is closed again
    with pytest.raises(PainterError, match="cannot reach .*--api"):
        load_server_painter(url)
    result = CliRunner().invoke(cli, ["run", "--no-llm", "--sessions-dir", str(tmp_path), "--model", url, "a red square"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if not line.startswith("…")]  # not the status lines
    assert len(errors) == 1 and errors[0].startswith("chatimg: error:") and "cannot reach" in errors[0]


def test_run_json_with_a_server_model(tmp_path):
    with serve(FakeSdapi()) as (url, requests):
        result = CliRunner().invoke(cli, ["run", "--json", "--no-llm", "--seed", "5", "--sessions-dir", str(tmp_path),
                                          "--model", url, "a yellow circle", "a blue circle"])
    assert result.exit_code == 0, result.output
    first, second = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert first["mode"] == "txt2img" and second["mode"] in ("img2img", "inpaint") and second["seed"] == 5
    assert first["takes"] == second["takes"] == 1  # no self-check for a server model unless --verifier is given
    assert [b["prompt"] for b in posts(requests, "txt2img") + posts(requests, "img2img")] == \
        ["a yellow circle", "a blue circle"]
