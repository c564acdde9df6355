"""The conversation engine: one turn = rewrite -> paint -> save. No UI in here.

The TUI and ``chatimg run`` both drive a ``ChatEngine``; the engine is the only thing
that writes the session, and it writes the turn's PNG before the JSON that names it,
so a crash between the two never leaves a turn pointing at a missing image. While it
holds a session that is on disk it holds the session's lock, so a second writer (another
window, another ``chatimg run``) is refused instead of overwriting its turns.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from chatimg.core.model import SEEDED_MODES, STRENGTH_MAX, Edit, Session, Timings, Turn, check_text
from chatimg.core.ops import Talk
from chatimg.core.provenance import PAINTED_MODES, turn_pnginfo
from chatimg.core.session_lock import SessionLock
from chatimg.core.store import SessionDamaged, SessionStore, StoreError
from chatimg.core.verdict import Verifier
from chatimg.paint.imperative import imperative_instruction
from chatimg.paint.painter import PaintCancelled, Painter, PaintRequest, StepUpdate
from chatimg.paint.picture_input import UNKNOWN_PROMPT, fit_for_model, open_picture
from chatimg.paint.retouch import retouch_of
from chatimg.paint.verify import DEFAULT_TRIES, Take, paint_checked, set_aside_reply, summary
from chatimg.shapeworld.read_back import picture_prompt
from chatimg.understand.rewriter import DirectRewriter, Rewriter

RewriterFactory = Callable[[Callable[[str], None]], Rewriter]
PainterFactory = Callable[[Callable[[str], None]], Painter]
#: Builds the self-check for the loaded painter (``None``: it has none).
VerifierFactory = Callable[[Painter, Callable[[str], None]], "Verifier | None"]


@dataclass
class TurnCallbacks:
    """How a running turn reports to whoever shows it (all optional, called in the
    worker thread: a UI must hop to its own thread itself)."""

    status: Callable[[str], None] = lambda _msg: None
    edit: Callable[[Edit], None] = lambda _edit: None
    step: Callable[[StepUpdate], None] = lambda _update: None


@dataclass
class TurnOutcome:
    turn: Turn
    image: Image.Image | None
    notes: list[str] = field(default_factory=list)
    #: Pictures painted for the turn: more than one when the self-check found a take that missed.
    takes: int = 1


class ChatEngine:
    """Owns one session and the models; every mutation of the session goes through here."""

    def __init__(self, store: SessionStore, session: Session | None = None, *,
                 rewriter_factory: RewriterFactory | None = None, painter_factory: PainterFactory | None = None,
                 model_name: str = "builtin", llm_name: str | None = "builtin",
                 verifier_factory: VerifierFactory | None = None, verify_tries: int = DEFAULT_TRIES) -> None:
        self.store = store
        self.session = session or Session(model=model_name, llm=llm_name)
        self._rewriter_factory = rewriter_factory
        self._painter_factory = painter_factory
        self.rewriter: Rewriter | None = None
        #: Builds an image-to-text model that reads an opened picture into its first prompt.
        self.captioner_factory: Callable[[Callable[[str], None]], Any] | None = None
        self.captioner: Any = None
        self.painter: Painter | None = None
        self._verifier_factory = verifier_factory
        self.verifier: Verifier | None = None
        #: Repaints with new seeds after the verifier finds a take that missed (0: no self-check).
        self.verify_tries = verify_tries
        self.model_name = model_name
        self.llm_name = llm_name
        self._load_lock = threading.Lock()
        self._writer: SessionLock | None = None  # the session's lock, while this engine writes it
        self._opened: tuple[str, str] | None = None  # (id, hash of its session.json) when read from disk
        #: What the user should know about the session just resumed (a copy became its own session...).
        self.notes: list[str] = []

    # -- models -------------------------------------------------------------------------
    def load_rewriter(self, status: Callable[[str], None] = lambda _m: None) -> Rewriter:
        return self._load("rewriter", self._rewriter_factory, status,
                          "no LLM configured (started with --no-llm): use /prompt TEXT")

    def load_painter(self, status: Callable[[str], None] = lambda _m: None) -> Painter:
        return self._load("painter", self._painter_factory, status, "no painter configured")

    def load_verifier(self, status: Callable[[str], None] = lambda _m: None) -> Verifier | None:
        if self._verifier_factory is None or self.verify_tries <= 0:
            return None
        painter = self.load_painter(status)
        return self._load("verifier", lambda s: self._verifier_factory(painter, s), status, "")

    def _load(self, attribute: str, factory: Callable | None, status: Callable[[str], None], missing: str):
        """Build a model once, on first use, under one lock (the UI preloads while a turn may start)."""
        with self._load_lock:
            if getattr(self, attribute) is None:
                if factory is None:
                    raise RuntimeError(missing)
                setattr(self, attribute, factory(status))
            return getattr(self, attribute)

    @property
    def has_llm(self) -> bool:
        return self._rewriter_factory is not None

    # -- state --------------------------------------------------------------------------
    def current_image(self) -> Image.Image | None:
        turn = self.session.current()
        return self.store.load_image(self.session, turn) if turn and turn.image else None

    def image_path(self, turn: Turn) -> Path | None:
        return self.store.image_path(self.session, turn)

    def save(self) -> None:
        self._claim()
        self.store.save(self.session)

    def _claim(self) -> None:
        """Hold the session's lock before writing it: a new session gets a folder of its own; one
        read without the lock is locked now, unless another writer changed it meanwhile."""
        if self._writer is not None and self._writer.held:
            return
        if self._opened is None or self._opened[0] != self.session.id:
            self._writer = self.store.claim_new(self.session)
            self._opened = (self.session.id, "")
            return
        lock = self.store.lock(self.session.id)
        if self.store.digest(self.session.id) != self._opened[1]:
            lock.release()
            raise StoreError(f"session {self.session.id} was changed by another chatimg since it was opened "
                             "here; open it again to continue it")
        self._writer = lock

    def close(self) -> None:
        """Let other writers have the session (also happens when the process ends)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    # -- the turn -----------------------------------------------------------------------
    def run_turn(self, message: str, *, direct: bool = False, paint: bool = True,
                 callbacks: TurnCallbacks | None = None, cancel: threading.Event | None = None) -> TurnOutcome:
        """Rewrite ``message`` (or take it as the prompt when ``direct``), paint, save.

        Raises ``PaintCancelled`` if ``cancel`` is set mid-paint (nothing is saved) and
        lets model errors propagate (nothing is saved either)."""
        callbacks = callbacks or TurnCallbacks()
        message = " ".join(check_text(message, "the message").split())
        if not message:
            raise ValueError("say what to paint or change")
        if self._opened is not None and self._opened[0] == self.session.id:
            self._claim()  # a session on disk: refused now if busy, before any work is done
        settings = self.session.settings
        previous = self.session.current()

        if direct:
            rewriter: Rewriter = DirectRewriter(strength=settings.strength)
        else:
            rewriter = self.load_rewriter(callbacks.status)  # loading is not rewriting time
            callbacks.status("rewriting…")
        started = time.perf_counter()
        edit = rewriter.rewrite(message, prompt=self.session.current_prompt(), history=self.session.history())
        if settings.strength is not None:
            edit = edit.model_copy(update={"strength": settings.strength})
        rewrite_s = time.perf_counter() - started
        callbacks.edit(edit)
        if cancel is not None and cancel.is_set():
            raise PaintCancelled()

        llm = None if direct else self.llm_name
        if edit.intent == "reroll" and previous is not None and paint:
            return self._reroll(message, edit, previous, llm=llm, rewrite_s=rewrite_s, callbacks=callbacks,
                                cancel=cancel)
        seed = settings.seed if settings.seed is not None else (previous.seed if previous else random.randrange(2**31))
        return self._paint_and_record(message, edit, seed=seed, steps=settings.steps, guidance=settings.guidance,
                                      llm=llm, rewrite_s=rewrite_s, paint=paint, callbacks=callbacks, cancel=cancel)

    def _reroll(self, message: str, edit: Edit, last: Turn, *, llm: str | None, rewrite_s: float,
                callbacks: TurnCallbacks, cancel: threading.Event | None) -> TurnOutcome:
        """"Try again": the last turn's edit painted once more with a new seed, from the picture
        it started from, as its sibling (the old take stays in the session's tree). A cut and
        paste, a retouch or a restored picture has no seed to change: that is said instead."""
        while last.mode == "keep" and last.parent is not None:  # "thanks!" changed nothing: the take before it
            last = self.session.turns[last.parent]
        if last.mode not in SEEDED_MODES:
            how = {"move": "a cut and paste", "retouch": "a retouch of colours or sizes"}.get(last.mode, "an earlier picture")
            reply = (f"The last picture was {how}, not painted from noise, so a new seed would give the same; "
                     "tell me what to change.")
            kept = edit.model_copy(update={"intent": "keep", "ops": [Talk(reply=reply)], "instruction": "no change",
                                           "note": "no change", "reply": reply})
            return self._paint_and_record(message, kept, seed=last.seed, steps=last.steps, guidance=last.guidance,
                                          llm=llm, rewrite_s=rewrite_s, paint=True, callbacks=callbacks, cancel=cancel)
        seed = random.randrange(2**31)
        while seed == last.seed:
            seed = random.randrange(2**31)
        again = last.edit.model_copy(update={"reply": edit.reply})
        settings, head = self.session.settings, self.session.head
        self.session.head = last.parent  # painted from the picture the last turn started from
        try:
            return self._paint_and_record(message, again, seed=seed, steps=settings.steps, guidance=settings.guidance,
                                          llm=llm, rewrite_s=rewrite_s, paint=True, callbacks=callbacks, cancel=cancel)
        except BaseException:
            self.session.head = head  # cancelled or failed: nothing changes
            raise

    def replay_turn(self, turn: Turn, *, callbacks: TurnCallbacks | None = None,
                    cancel: threading.Event | None = None) -> TurnOutcome:
        """Repaint a recorded turn (its edit, seed, steps and guidance) on top of this
        session's head: with the same model this reproduces the recorded pixels."""
        callbacks = callbacks or TurnCallbacks()
        callbacks.edit(turn.edit)
        return self._paint_and_record(turn.user, turn.edit, seed=turn.seed, steps=turn.steps,
                                      guidance=turn.guidance, llm=turn.llm, rewrite_s=0.0, paint=True,
                                      callbacks=callbacks, cancel=cancel, verify=False)

    def _paint_and_record(self, message: str, edit: Edit, *, seed: int, steps: int | None, guidance: float | None,
                          llm: str | None, rewrite_s: float, paint: bool, callbacks: TurnCallbacks,
                          cancel: threading.Event | None, verify: bool = True) -> TurnOutcome:
        image = None
        notes: list[str] = []
        takes: list[Take] = []
        set_aside: list[Take] = []
        paint_s = 0.0
        mode = "none"
        model_prompt = ""
        earlier = self._earlier_picture_of(edit.prompt) if paint and edit.intent in ("paint", "restore") else None
        if earlier is not None:
            # "Go back to the red one": show the picture the person saw then, not a repaint of it.
            image, mode = self.store.load_image(self.session, earlier), "restore"
            notes.append(f"the picture of turn {earlier.index}, as it was")
        elif paint and edit.intent == "keep" and self.session.current() is not None and self.session.current().image:
            # "thanks!": a repaint at the lowest strength would still redraw (and soften) the picture
            image, mode = self.current_image(), "keep"
        elif paint and self._describes_opened_picture(edit):
            # An opened picture nobody has described yet: a whole new description is what it shows.
            image, mode = self.current_image(), "keep"
            edit = edit.model_copy(update={"instruction": "what the picture shows", "intent": "keep", "reply": (
                f"Noted: the picture shows {edit.prompt}. Say what to change.")})
        elif paint:
            painter = self.load_painter(callbacks.status)
            # A whole-image edit at full strength keeps nothing of the old picture ("start over with
            # a green triangle"): paint it from text, as img2img at 1.0 still lets the old one show
            # through on schedules without a zero-SNR last step.
            fresh = edit.intent == "restart" or (edit.strength >= STRENGTH_MAX and edit.region == "whole")
            init = None if fresh else self.current_image()
            if init is None and self._after_import():
                init = self.current_image()  # a picture the person opened is never thrown away
            shown_size = init.size if init is not None else None
            if init is not None:
                init = fit_for_model(init, painter)
            before = self.session.current_prompt()
            callbacks.status("painting…")

            def paint_with(take_seed: int):
                return painter.paint(
                    PaintRequest(prompt=edit.prompt, negative_prompt=edit.negative_prompt, init_image=init,
                                 strength=edit.strength, region=edit.region, seed=take_seed, steps=steps,
                                 guidance=guidance, retouch=retouch_of(before, edit.prompt) if before else None,
                                 instruction=self._instruction(edit, message)),
                    on_step=callbacks.step, cancel=cancel)

            # The self-check: a take that missed is painted again with a new seed; the best is kept.
            verifier = self.load_verifier(callbacks.status) if verify else None
            takes, best = paint_checked(paint_with, seed, verifier, self.verify_tries, prompt=edit.prompt,
                                        before_prompt=before if init is not None else None, before_image=init,
                                        status=callbacks.status,
                                        cancelled=lambda: cancel is not None and cancel.is_set())
            result, seed = takes[best].result, takes[best].seed
            image, mode, steps, guidance = result.image, result.mode, result.steps, result.guidance
            if shown_size is not None and image.size != shown_size:  # an opened picture keeps its own size
                image = image.resize(shown_size, Image.LANCZOS)
            paint_s, notes = sum(t.result.seconds for t in takes), result.notes
            model_prompt = getattr(result, "model_prompt", "")
            checked = summary(takes, best)
            if checked:
                edit = edit.model_copy(update={"reply": f"{edit.reply} {checked[0].upper()}{checked[1:]}.".strip()})
                set_aside = [t for i, t in enumerate(takes) if i != best]
        if cancel is not None and cancel.is_set():
            raise PaintCancelled()

        parent = self.session.head
        for number, take in enumerate(set_aside, start=1):  # the other takes: siblings in the tree
            aside = edit.model_copy(update={"reply": set_aside_reply(take, number, len(set_aside) + 1)})
            self._record(message, aside, take.result.mode, take.seed, take.result.steps, take.result.guidance,
                         llm, rewrite_s, take.result.seconds, paint, take.result.image,
                         getattr(take.result, "model_prompt", ""))
            self.session.head = parent
        turn = self._record(message, edit, mode, seed, steps, guidance, llm, rewrite_s, paint_s, paint, image,
                            model_prompt)
        self.save()
        return TurnOutcome(turn=turn, image=image, notes=notes, takes=max(1, len(takes)))

    @staticmethod
    def _instruction(edit: Edit, message: str) -> str:
        """What an instruction-edit model is told: the edit's imperative sentence; a typed prompt's
        own words first when they are a command ("make the car blue"); for a restart (its "paint …"
        is no edit) the typed words or the prompt."""
        if edit.source == "direct":
            return imperative_instruction(message, edit.prompt, edit.instruction)
        return imperative_instruction("" if edit.intent == "restart" else edit.instruction, edit.prompt, message)

    def _record(self, message: str, edit: Edit, mode: str, seed: int, steps: int | None, guidance: float | None,
                llm: str | None, rewrite_s: float, paint_s: float, paint: bool, image: Image.Image | None,
                model_prompt: str = "") -> Turn:
        """Add a turn under the head, its picture written first (the caller saves the session)."""
        self._claim()  # a new session's folder and lock, before its first file
        index = self.session.next_index()
        turn = Turn(index=index, parent=self.session.head, user=message, edit=edit, mode=mode, seed=seed,
                    steps=steps or 1, guidance=guidance or 0.0, model=self.model_name if paint else "", llm=llm,
                    model_prompt=model_prompt,
                    timings=Timings(rewrite_s=round(rewrite_s, 3), paint_s=round(paint_s, 3)))
        if image is not None:
            turn.image = self._save_image(turn, image)
        return self.session.add_turn(turn)

    def _earlier_picture_of(self, prompt: str) -> Turn | None:
        """The newest earlier turn on this branch that painted exactly ``prompt``, when the edit
        goes back to it (the prompt differs from the current one); else ``None``."""
        chain = self.session.branch()
        if not chain or chain[-1].edit.prompt == prompt:
            return None
        return next((t for t in reversed(chain[:-1]) if t.edit.prompt == prompt and t.image), None)

    # -- commands -----------------------------------------------------------------------
    def undo(self) -> Turn | None:
        turn = self.session.undo()
        self.save()
        return turn

    def open_picture(self, path: str | Path, *, status: Callable[[str], None] = lambda _m: None,
                     kept_original: bool = False, prompt: str | None = None) -> TurnOutcome:
        """Start a new session whose turn 0 is the picture at ``path``, normalised (the file's
        bytes are kept beside it untouched). Its prompt is read from the picture: by the
        captioner when the engine has one (``captioner_factory``), else the shape world's checker
        for a shape-world painter; otherwise it is ``UNKNOWN_PROMPT`` until the first message: a
        whole new description says what it shows (the picture stays), anything else edits it.

        Raises ``PictureError`` (nothing is written) for a file that is not a usable picture, or
        one inside the sessions folder (unless ``kept_original``: a replay of a session's own copy,
        with the ``prompt`` it had)."""
        picture = open_picture(path, sessions_root=None if kept_original else self.store.root)
        notes: list[str] = []
        reader = None
        if prompt is None and self.captioner_factory is not None:
            captioner = self._load("captioner", self.captioner_factory, status, "no captioner configured")
            status("describing the picture…")
            prompt, reader = captioner.caption(picture.image), captioner.name
        elif prompt is None and self._paints_shapeworld():
            prompt = picture_prompt(picture.image)
            if prompt is None:
                notes.append("not a shape-world picture: the built-in painter will still edit it, roughly")
        width, height = picture.image.size
        known = bool(prompt and prompt.strip() and prompt != UNKNOWN_PROMPT)
        reply = (f"Opened {picture.path.name} ({width}x{height}): {prompt}. Say what to change." if known else
                 f"Opened {picture.path.name} ({width}x{height}). Say what to change, or describe it.")
        session = Session(model=self.model_name, llm=self.llm_name, settings=self.session.settings.model_copy(),
                          title=f"{picture.path.name}"[:60])
        turn = Turn(index=0, parent=None, user=f"open {picture.path.name}",
                    edit=Edit(prompt=prompt if known else UNKNOWN_PROMPT, instruction="open a picture",
                              strength=STRENGTH_MAX, reply=reply),
                    mode="import", seed=self.session.settings.seed if self.session.settings.seed is not None
                    else random.randrange(2**31), steps=1, guidance=0.0, model="", llm=reader)
        previous, self.session = self.session, session
        try:
            self.close()  # the session before it is no longer written here
            self._claim()  # the new session's own folder and lock, before its first file
            turn.source = self.store.save_original(session, picture.suffix, picture.data)
            turn.image = self._save_image(turn, picture.image)
            session.add_turn(turn)
            self.save()
        except BaseException:
            self.session = previous
            raise
        return TurnOutcome(turn=turn, image=picture.image, notes=notes)

    def _save_image(self, turn: Turn, image: Image.Image) -> str:
        """The turn's PNG, carrying how it was made (``chatimg.provenance``)."""
        sampler = getattr(self.painter, "sampler", "") if turn.mode in PAINTED_MODES else ""
        info = turn_pnginfo(self.session, turn, image.size, sampler if isinstance(sampler, str) else "")
        return self.store.save_image(self.session, turn.index, image, pnginfo=info)

    def _describes_opened_picture(self, edit: Edit) -> bool:
        """Whether ``edit`` is a whole new description (full strength, whole image) of an opened
        picture that has none yet: the person saying what it shows, not asking to repaint it."""
        turn = self.session.current()
        return (turn is not None and turn.mode == "import" and turn.edit.prompt == UNKNOWN_PROMPT
                and (edit.intent == "restart" or (edit.strength >= STRENGTH_MAX and edit.region == "whole")))

    def _after_import(self) -> bool:
        """Whether the head is a picture the person opened, shown as it was since."""
        turn = self.session.current()
        while turn is not None and turn.mode == "keep" and turn.parent is not None:
            turn = self.session.turns[turn.parent]
        return turn is not None and turn.mode == "import"

    def _paints_shapeworld(self) -> bool:
        """Whether the painter was trained on shape-world captions (known without loading it)."""
        from chatimg.paint.painter import BUILTIN, DEFAULTS_FILE, guess_defaults

        if self.painter is not None:
            return getattr(self.painter.defaults, "prompts", None) == "shapeworld"
        if self.model_name == BUILTIN:
            return True
        folder = Path(self.model_name).expanduser()
        return (folder / DEFAULTS_FILE).is_file() and guess_defaults(self.model_name, folder).prompts == "shapeworld"

    def new_session(self) -> Session:
        self.close()
        self.session = Session(model=self.model_name, llm=self.llm_name, settings=self.session.settings.model_copy())
        self._opened, self.notes = None, []
        return self.session

    def resume(self, session_id: str, *, write: bool = True) -> Session:
        """Open a saved session; ``write`` takes its lock now (``SessionBusy`` if another chatimg
        has it), else only a later write does. Notes for the user land in ``self.notes``."""
        resolved = self.store.resolve(session_id)
        held = self._writer if self._writer is not None and self.session.id == resolved else None
        try:
            lock = held or (self.store.lock(resolved) if write else None)
        except SessionDamaged as exc:
            raise SessionDamaged(f"session {resolved} is damaged: {exc.reason}") from None
        try:
            loaded = self.store.load_checked(resolved)
        except BaseException:
            if lock is not None and lock is not held:
                lock.release()
            raise
        if lock is not held:
            self.close()
        self._writer = lock
        self.session, self.notes = loaded.session, loaded.notes
        self._opened = (loaded.session.id, loaded.digest)
        return self.session

    def set_setting(self, name: str, value: object) -> None:
        self.session.settings = self.session.settings.model_validate(
            {**self.session.settings.model_dump(), name: value})
        if self.session.turns:
            self.save()

    def export(self, destination: str | Path, *, fmt: str | None = None, force: bool = False,
               strip: bool = False) -> Path:
        """Write the current branch to ``destination`` (``chatimg.exports``: a PNG of the current
        picture, a GIF or WebP of every turn, a contact sheet, a Markdown page); returns the main
        file. Raises ``ExportError`` (a ``ValueError``) for a destination it must not write."""
        from chatimg.core.exports import export_session

        return export_session(self.store, self.session, destination, fmt=fmt, force=force, strip=strip)[0]
