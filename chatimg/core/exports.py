"""Exports people share: one PNG, an animation of the branch, a contact sheet, a Markdown page.

Every export is written next to nothing of the session's own: a destination inside the
sessions folder is refused, and so is an existing file unless ``force``. PNGs keep the
provenance chunks of the turn they show (``chatimg.provenance``) unless ``strip``.
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

from PIL import Image, ImageDraw, ImageFont, ImageOps

from chatimg import __version__
from chatimg.core import provenance
from chatimg.core.model import Session, Turn
from chatimg.core.store import SessionStore, atomic_write_bytes

FORMATS = ("png", "gif", "webp", "sheet", "md")
#: The file extension each format writes.
EXTENSIONS = {"png": ".png", "gif": ".gif", "webp": ".webp", "sheet": ".png", "md": ".md"}
#: A format from a destination's extension (a .png is one picture; ask for a sheet by name).
BY_EXTENSION = {".png": "png", ".gif": "gif", ".webp": "webp", ".md": "md", ".markdown": "md"}
#: Animations and sheets show small pictures at least this large (scaled by whole pixels).
MIN_SIDE = 256
FRAME_MS = 900
LAST_FRAME_MS = 2000
SHEET_COLUMNS = 4
SHEET_CELL = 256
SHEET_TEXT_LINES = 4


class ExportError(ValueError):
    """The export cannot be written; the message says why, in one line."""


@dataclass
class Picture:
    turn: Turn
    path: Path
    image: Image.Image


def format_for(destination: str | Path, fmt: str | None) -> str:
    """The format asked for, or the one a destination's extension names (default: png)."""
    if fmt:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise ExportError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(str(destination)).suffix.lower()
    if suffix and suffix not in BY_EXTENSION:
        raise ExportError(f"cannot tell the format from {suffix!r}: end the name in .png, .gif, .webp or .md, "
                          "or pass --format")
    return BY_EXTENSION.get(suffix, "png")


def export_session(store: SessionStore, session: Session, destination: str | Path, *, fmt: str | None = None,
                   force: bool = False, strip: bool = False, turn: Turn | None = None) -> list[Path]:
    """Write ``session`` (its current branch, or ``turn`` for a single PNG) to ``destination``;
    returns the files written, the main one first."""
    fmt = format_for(destination, fmt)
    head = turn or session.current()
    if head is None:
        raise ExportError("there is nothing to export yet")
    target = _target(store, session, head, Path(str(destination)).expanduser(), fmt,
                     str(destination).endswith(("/", "\\")))
    pictures = _pictures(store, session, session.branch(head.index) if fmt != "png" else [head])
    if not pictures:
        raise ExportError("there is no image to export yet")
    if fmt == "png":
        files = {target: _png_bytes(pictures[-1].path, strip)}
    elif fmt in ("gif", "webp"):
        files = {target: _animation(session, pictures, fmt, strip)}
    elif fmt == "sheet":
        files = {target: _sheet(session, pictures, strip)}
    else:
        files = _markdown(session, pictures, target, strip)
    clashes = [path for path in files if path.exists()]
    if clashes and not force:
        raise ExportError(f"{clashes[0]} already exists: pass --force to overwrite it")
    for path, data in files.items():
        atomic_write_bytes(path, data)
    return [path.resolve() for path in files]


def _target(store: SessionStore, session: Session, head: Turn, target: Path, fmt: str, folder: bool) -> Path:
    if folder or target.is_dir():
        stem = {"png": f"{session.id}-turn-{head.index:03d}", "sheet": f"{session.id}-sheet"}.get(fmt, session.id)
        target = target / f"{stem}{EXTENSIONS[fmt]}"
    elif not target.suffix:
        target = target.with_suffix(EXTENSIONS[fmt])
    elif target.suffix.lower() not in (EXTENSIONS[fmt], ".markdown" if fmt == "md" else EXTENSIONS[fmt]):
        raise ExportError(f"a {fmt} export is a {EXTENSIONS[fmt]} file: {target.name!r} does not end in one")
    target = target.resolve()
    root = store.root.resolve()
    if target == root or target.is_relative_to(root):
        raise ExportError(f"exports go outside the sessions folder {root}: it holds the sessions' own files")
    if target.parent.exists() and not target.parent.is_dir():
        raise ExportError(f"{target.parent} is not a folder")
    return target


def _pictures(store: SessionStore, session: Session, turns: Iterable[Turn]) -> list[Picture]:
    pictures = []
    for turn in turns:
        if not turn.image:
            continue
        path = store.readable_file(session.id, turn.image)  # a plain file of the session, never a link out of it
        with Image.open(path) as image:
            image.load()
            pictures.append(Picture(turn, path, image.convert("RGB")))
    return pictures


def _png_bytes(path: Path, strip: bool) -> bytes:
    """A turn's PNG as saved (chunks and all), or its pixels alone."""
    if not strip:
        return path.read_bytes()
    with Image.open(path) as image:
        buffer = BytesIO()
        image.save(buffer, format="PNG")  # Pillow writes no text chunk it is not given
        return buffer.getvalue()


def _scaled(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``image`` fitted into ``size`` with its aspect kept: sharp pixels when enlarged by a whole
    factor (a 64-pixel picture stays crisp), smooth otherwise."""
    scale = min(size[0] / image.width, size[1] / image.height)
    whole = scale >= 1 and float(scale).is_integer()
    return ImageOps.pad(image, size, method=Image.Resampling.NEAREST if whole else Image.Resampling.LANCZOS,
                        color=(255, 255, 255))


def _frame_size(pictures: list[Picture]) -> tuple[int, int]:
    width = max(p.image.width for p in pictures)
    height = max(p.image.height for p in pictures)
    factor = max(1, math.ceil(MIN_SIDE / max(width, height)))
    return width * factor, height * factor


def _head_provenance(pictures: list[Picture]) -> tuple[str, dict]:
    """The A1111 parameters and lineage of the last picture (what the export ends on)."""
    found = provenance.read(pictures[-1].path)
    return found.parameters or pictures[-1].turn.edit.prompt, found.lineage or {}


def _animation(session: Session, pictures: list[Picture], fmt: str, strip: bool) -> bytes:
    size = _frame_size(pictures)
    frames = [_scaled(p.image, size) for p in pictures]
    durations = [FRAME_MS] * (len(frames) - 1) + [LAST_FRAME_MS]
    buffer = BytesIO()
    options: dict = {"save_all": True, "append_images": frames[1:], "duration": durations, "loop": 0}
    if fmt == "gif":
        if not strip:
            parameters, _ = _head_provenance(pictures)
            options["comment"] = (f"Made with chatimg {__version__} (AI-generated): "
                                  f"{len(frames)} turns of session {session.id}.\n{parameters}").encode()
        frames[0].save(buffer, format="GIF", **options)
    else:
        if not strip:
            parameters, lineage = _head_provenance(pictures)
            options["xmp"] = provenance.xmp_packet(
                description=pictures[-1].turn.edit.prompt, created=pictures[-1].turn.created.isoformat(),
                ai_generated=bool(lineage.get("ai_generated", True))).encode()
        frames[0].save(buffer, format="WEBP", lossless=True, **options)
    return buffer.getvalue()


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def _sheet(session: Session, pictures: list[Picture], strip: bool) -> bytes:
    """Every turn's picture in a grid, with what was said under it."""
    columns = min(SHEET_COLUMNS, len(pictures))
    rows = math.ceil(len(pictures) / columns)
    font, title_font = _font(14), _font(18)
    line_height, pad, header = 18, 12, 40
    chars = max(10, SHEET_CELL // 8)
    captions = [_caption(f"#{p.turn.index}  {p.turn.user}", chars) for p in pictures]
    cell_w, cell_h = SHEET_CELL, SHEET_CELL + pad + max(len(c) for c in captions) * line_height
    width = pad + columns * (cell_w + pad)
    height = header + rows * (cell_h + pad) + pad
    sheet = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    draw.text((pad, 10), f"{session.title or session.id}  ·  {session.id}", fill=(20, 20, 20), font=title_font)
    for n, (picture, lines) in enumerate(zip(pictures, captions)):
        x = pad + (n % columns) * (cell_w + pad)
        y = header + (n // columns) * (cell_h + pad)
        sheet.paste(_scaled(picture.image, (cell_w, SHEET_CELL)), (x, y))
        draw.rectangle((x - 1, y - 1, x + cell_w, y + SHEET_CELL), outline=(200, 200, 200))
        for k, line in enumerate(lines):
            draw.text((x, y + SHEET_CELL + pad // 2 + k * line_height), line, fill=(30, 30, 30), font=font)
    buffer = BytesIO()
    info = None
    if not strip:
        parameters, lineage = _head_provenance(pictures)
        lineage = {**lineage, "export": {"kind": "contact sheet", "turns": [p.turn.index for p in pictures]}}
        info = provenance.pnginfo(parameters, lineage, pictures[-1].turn.created.isoformat())
    sheet.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def _caption(text: str, chars: int) -> list[str]:
    """``text`` wrapped to ``chars`` a line, at most ``SHEET_TEXT_LINES`` lines."""
    lines = textwrap.wrap(text, chars) or [""]
    if len(lines) > SHEET_TEXT_LINES:
        lines = lines[:SHEET_TEXT_LINES - 1] + [lines[SHEET_TEXT_LINES - 1][:chars - 1] + "…"]
    return lines


def _md(text: str) -> str:
    """Text as Markdown shows it literally."""
    out = " ".join(text.split())
    for char in "\\`*_[]<>#|":
        out = out.replace(char, "\\" + char)
    return out


def _markdown(session: Session, pictures: list[Picture], target: Path, strip: bool) -> dict[Path, bytes]:
    """The transcript, and every turn's PNG beside it (``<name>-turn-NNN.png``)."""
    files: dict[Path, bytes] = {}
    painted = {p.turn.index: p for p in pictures}
    turns = session.branch(pictures[-1].turn.index)
    model = next((t.model for t in turns if t.model), session.model) or "?"
    lines = [f"# {_md(session.title or session.id)}", "",
             f"A conversation with chatimg {__version__}: session `{session.id}`, {len(turns)} turns, "
             f"painted by `{model}`. The pictures are AI-generated; each PNG carries its prompt, seed "
             "and lineage (`chatimg info FILE.png`).", ""]
    for turn in turns:
        lines += [f"## Turn {turn.index}", "", f"**You:** {_md(turn.user)}", ""]
        if turn.edit.reply:
            lines += [f"**chatimg:** {_md(turn.edit.reply)}", ""]
        picture = painted.get(turn.index)
        if picture is not None:
            name = f"{target.stem}-turn-{turn.index:03d}.png"
            files[target.parent / name] = _png_bytes(picture.path, strip)
            alt = _md(f"turn {turn.index}: {turn.edit.prompt}")
            lines += [f"![{alt}]({quote(name)})", ""]
        lines += [f"Prompt: {_md(turn.edit.prompt)}  ", f"How: {_md(turn.painted_how(', '))}", ""]
    meta = {"session": session.id, "chatimg_version": __version__, "turns": [t.index for t in turns]}
    lines.append(f"<!-- chatimg {json.dumps(meta)} -->")
    return {target: "\n".join(lines).encode(), **files}
