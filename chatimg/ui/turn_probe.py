"""The TUI measured from the outside, with Textual's pilot: start-up to the first frame and to
models ready, the first painted turn against warm ones, and how the UI answers while a long
turn paints: a key posted every 30 ms (as the terminal driver posts it) against its echo, the
event loop's lateness per frame, and the transcript scrolled now and then.

``chatimg bench turn`` runs it in a fresh process, so imports, model loading and the first
turn are as cold as a user's::

    python -m chatimg.ui.turn_probe --started "$(date +%s.%N)" --sessions-dir /tmp/x

and reads the one JSON object it prints.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import statistics
import sys
import time

#: Distinct prompts: a prompt painted before would be shown again instead of repainted.
PROMPTS = ["a big red circle in the center, blue background", "a small green square on the left, white background",
           "a big yellow triangle on the right, black background", "a small blue circle at the top, white background",
           "a big white square in the center, red background", "a small red triangle at the bottom, green background",
           "a big blue square on the left, yellow background", "a small black circle on the right, white background"]
FRAME_S = 1 / 60
KEY_EVERY_S = 0.03


def percentiles(values: list[float]) -> dict[str, float | int]:
    """p50 / p95 / p99 / max of ``values`` (seconds) in milliseconds, and how many."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1)

    return {"n": len(ordered), "p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": round(1000 * ordered[-1], 1)}


async def probe(started: float, sessions_dir: str, steps: int, ui_steps: int, warm_turns: int,
                timeout: float = 600.0) -> dict:
    from textual import events
    from textual.widgets import Input

    from chatimg.ui.app import ChatApp
    from chatimg.ui.widgets.transcript import Note
    from chatimg.wiring import make_engine

    engine = make_engine("builtin", "builtin", "cpu", sessions_dir, no_llm=True, seed=1)
    engine.set_setting("strength", 1.0)  # every turn paints from text: the same work each time
    engine.set_setting("steps", steps)
    app = ChatApp(engine, preview_mode="halfblock")
    deadline = time.monotonic() + timeout

    async def until(predicate) -> None:
        """Wait for ``predicate``, looking rarely: a DOM query every few ms is load of its own."""
        polls = 0
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("the TUI did not get there in time")
            polls += 1
            if polls % 50 == 0:
                errors = [n for n in app.query(Note) if n.has_class("error")]
                if errors:
                    raise RuntimeError(str(errors[-1].render()))
            await asyncio.sleep(0.01)

    async with app.run_test(size=(120, 40)) as pilot:
        first_frame = time.time() - started
        await until(lambda: app.models_ready)
        models_ready = time.time() - started
        prompt = app.query_one("#prompt", Input)

        async def turn(text: str) -> float:
            before = app.turns_done
            prompt.value = text
            begun = time.perf_counter()
            await pilot.press("enter")
            await until(lambda: app.turns_done > before)
            return time.perf_counter() - begun

        first = await turn(PROMPTS[0])
        warm = [await turn(PROMPTS[1 + i % (len(PROMPTS) - 1)]) for i in range(warm_turns)]

        # A long turn; meanwhile type, scroll, and watch how late each frame runs.
        engine.set_setting("steps", ui_steps)
        pressed: list[float] = []
        echoes: list[float] = []
        lags: list[float] = []
        app.watch(prompt, "value", lambda _value: echoes.append(time.perf_counter()), init=False)
        before = app.turns_done
        prompt.value = PROMPTS[-1]
        await pilot.press("enter")
        echoes.clear()
        painting = time.perf_counter()

        finished = lambda: app.turns_done > before  # noqa: E731

        async def frames() -> None:
            while not lags or not finished():  # at least one frame
                due = time.perf_counter() + FRAME_S
                await asyncio.sleep(FRAME_S)
                lags.append(max(0.0, time.perf_counter() - due))

        ticker = asyncio.create_task(frames())
        while not pressed or (not finished() and time.monotonic() < deadline):  # at least one key
            key = events.Key("x", "x")  # as the terminal driver posts it; pilot.press would wait for idle
            key.set_sender(app)
            pressed.append(time.perf_counter())
            app.post_message(key)
            if len(pressed) % 5 == 0:
                if len(pressed) % 10:
                    app.transcript.scroll_home(animate=False)
                else:
                    app.transcript.scroll_end(animate=False)
            await asyncio.sleep(KEY_EVERY_S)
        await until(finished)
        painted = time.perf_counter() - painting
        await ticker
        echo = []
        for sent in pressed:  # each key against the first change of the input after it
            index = bisect.bisect_left(echoes, sent)
            if index < len(echoes):
                echo.append(echoes[index] - sent)
    warm_s = statistics.median(warm) if warm else None
    return {
        "startup_first_frame_s": round(first_frame, 3),
        "startup_models_ready_s": round(models_ready, 3),
        "first_turn_s": round(first, 3),
        "warm_turn_s": round(warm_s, 3) if warm_s else None,
        "first_over_warm": round(first / warm_s, 2) if warm_s else None,
        "ui_turn_s": round(painted, 3),
        "ui_steps": ui_steps,
        "frame_lag_ms": percentiles(lags),
        "key_echo_ms": percentiles(echo),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--started", type=float, default=None, help="time.time() when the process was launched")
    parser.add_argument("--sessions-dir", required=True)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--ui-steps", type=int, default=60)
    parser.add_argument("--warm-turns", type=int, default=3)
    args = parser.parse_args(argv)
    started = args.started if args.started is not None else time.time()
    result = asyncio.run(probe(started, args.sessions_dir, args.steps, args.ui_steps, args.warm_turns))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
