"""Small real fakes: fast stand-ins with real behaviour, for engine and UI tests."""

from __future__ import annotations

import threading
import time

from PIL import Image

from chatimg.core.model import Edit
from chatimg.paint.painter import PaintDefaults, PaintRequest, PaintResult, StepUpdate

COLOURS = {"red": (220, 30, 30), "green": (30, 170, 50), "blue": (30, 70, 220), "yellow": (245, 225, 30)}


class AppendRewriter:
    """Keeps the previous prompt and appends the request: enough to see history flow."""

    name = "append"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, list]] = []

    def rewrite(self, message, *, prompt, history=()):
        self.calls.append((message, prompt, list(history)))
        new = message if prompt is None else f"{prompt}, {message}"
        return Edit(prompt=new, instruction=message, strength=0.5, reply=f"ok: {message}")


class SolidPainter:
    """Paints a flat image in the last colour word of the prompt, step by step."""

    name = "solid"
    defaults = PaintDefaults(steps=3, guidance=0.0)

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.requests: list[PaintRequest] = []

    def paint(self, request, on_step=None, cancel: threading.Event | None = None):
        from chatimg.paint.painter import PaintCancelled

        self.requests.append(request)
        words = [w.strip(",.") for w in request.prompt.lower().split()]
        colour = next((COLOURS[w] for w in reversed(words) if w in COLOURS), (128, 128, 128))
        image = Image.new("RGB", (16, 16), colour)
        steps = request.steps or self.defaults.steps
        for step in range(steps):
            if cancel is not None and cancel.is_set():
                raise PaintCancelled()
            time.sleep(self.delay)
            if on_step:
                on_step(StepUpdate(step + 1, steps, image))
        return PaintResult(image=image, mode="txt2img" if request.init_image is None else "img2img",
                           steps=steps, guidance=0.0, seconds=self.delay * steps)
