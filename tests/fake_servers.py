"""Small local HTTP servers that speak the APIs chatimg talks to, started by tests in a thread:
the AUTOMATIC1111 ``sdapi/v1`` image API and an OpenAI-compatible chat API."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from PIL import Image, ImageDraw

COLOURS = {"red": (220, 30, 30), "green": (30, 170, 50), "blue": (30, 70, 220), "yellow": (245, 225, 30)}


def png_b64(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def from_b64(data: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self) -> None:
        self.server.requests.append(("GET", self.path, None))
        self._send(*self.server.app.get(self.path))

    def do_POST(self) -> None:
        body = self._body()
        self.server.requests.append(("POST", self.path, body))
        self._send(*self.server.app.post(self.path, body))


class FakeSdapi:
    """AUTOMATIC1111's ``sdapi/v1``: txt2img paints the last colour word of the prompt flat;
    img2img paints a box of it over the init image, centred on the mask when there is one
    (pasting the masked region back is left to the caller).
    ``delay`` seconds per request, counted in ``steps`` reported by ``progress``."""

    def __init__(self, delay: float = 0.0, steps: int = 4) -> None:
        self.delay, self.steps = delay, steps
        self.interrupted = threading.Event()
        self.step = 0

    def get(self, path: str) -> tuple[int, object]:
        if path.startswith("/sdapi/v1/options"):
            return 200, {"sd_model_checkpoint": "fake-sd15.safetensors"}
        if path.startswith("/sdapi/v1/progress"):
            return 200, {"progress": self.step / self.steps, "state": {"sampling_step": self.step,
                                                                        "sampling_steps": self.steps}}
        return 404, {"detail": "Not Found"}

    def post(self, path: str, body: dict) -> tuple[int, object]:
        if path == "/sdapi/v1/interrupt":
            self.interrupted.set()
            return 200, {}
        if path not in ("/sdapi/v1/txt2img", "/sdapi/v1/img2img"):
            return 404, {"detail": "Not Found"}
        for step in range(1, self.steps + 1):
            self.step = step
            if self.interrupted.is_set():
                break
            time.sleep(self.delay / self.steps)
        words = [w.strip(",.") for w in body["prompt"].lower().split()]
        colour = next((COLOURS[w] for w in reversed(words) if w in COLOURS), (128, 128, 128))
        size = (body.get("width", 512), body.get("height", 512))
        image = Image.new("RGB", size, colour)
        if body.get("init_images"):
            image = from_b64(body["init_images"][0])
            w, h = image.size
            x, y = w // 2, h // 2
            if body.get("mask"):
                ys, xs = np.nonzero(np.asarray(from_b64(body["mask"]).convert("L")) > 127)
                x, y = int(xs.mean()), int(ys.mean())
            ImageDraw.Draw(image).rectangle((x - w // 8, y - h // 8, x + w // 8, y + h // 8), fill=colour)
        return 200, {"images": [png_b64(image)], "parameters": body, "info": "{}"}


class FakeOpenAI:
    """An OpenAI-compatible ``/v1``: lists ``models``; a chat completion answers ``answer(messages)``,
    as JSON ``{"prompt": ...}`` when asked for the JSON-schema format. ``schema=False``: the
    server refuses that format with a 400, as some do."""

    def __init__(self, answer, models=("tiny-chat",), schema: bool = True) -> None:
        self.answer, self.models, self.schema = answer, list(models), schema

    def get(self, path: str) -> tuple[int, object]:
        if path == "/v1/models":
            return 200, {"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]}
        return 404, {"error": "not found"}

    def post(self, path: str, body: dict) -> tuple[int, object]:
        if path != "/v1/chat/completions":
            return 404, {"error": "not found"}
        if body.get("model") not in self.models:
            return 404, {"error": {"message": f"model {body.get('model')!r} not found"}}
        wanted = body.get("response_format")
        if wanted and not self.schema:
            return 400, {"error": {"message": "response_format is not supported"}}
        text = self.answer(body["messages"])
        content = json.dumps({"prompt": text}) if wanted else text
        return 200, {"id": "x", "object": "chat.completion", "model": body["model"],
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                  "finish_reason": "stop"}]}


@contextmanager
def serve(app):
    """Run ``app`` on a free local port; yields ``(base_url, requests)``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.app, server.requests = app, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests
    finally:
        server.shutdown()
        server.server_close()
