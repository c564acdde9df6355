"""A picture the person brings: checked, normalised, fitted for the model, read into a prompt.

Opening never trusts the file: a missing path, something that is not an image, a picture with
more pixels than ``MAX_PIXELS`` (a decompression bomb unpacks a few kB into gigabytes) and a
file inside the sessions folder are refused with one line (``PictureError``) before anything
is written. The accepted picture is kept as given (its bytes are copied into the session
untouched) and normalised for painting: EXIF rotation applied, transparency flattened on
white, palette, 16-bit and CMYK pixels turned into 8-bit RGB.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

#: The most pixels an opened picture may have (a 48-megapixel photo fits; a bomb does not).
MAX_PIXELS = 50_000_000
#: The most bytes read from an opened file.
MAX_BYTES = 200 * 1024 * 1024
#: What an opened picture is called until someone says what it shows.
UNKNOWN_PROMPT = "a picture"


class PictureError(Exception):
    """The file cannot be opened as a picture; the message says why, in one line."""


@dataclass
class OpenedPicture:
    path: Path
    data: bytes
    image: Image.Image  # normalised: RGB, upright, the original size
    original_format: str
    original_mode: str

    @property
    def suffix(self) -> str:
        return self.path.suffix or f".{self.original_format.lower()}"


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def open_picture(path: str | Path, sessions_root: str | Path | None = None) -> OpenedPicture:
    """Read and check ``path``; raises ``PictureError`` for anything that is not a usable picture."""
    path = Path(path).expanduser()
    if sessions_root is not None and _inside(path, Path(sessions_root)):
        raise PictureError(f"{path} is inside the sessions folder {sessions_root}: open a copy kept elsewhere")
    if not path.exists():
        raise PictureError(f"no such file: {path}")
    if not path.is_file():
        raise PictureError(f"{path} is not a file")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise PictureError(f"{path} is {size / 2**20:.0f} MiB; pictures up to {MAX_BYTES // 2**20} MiB open")
        data = path.read_bytes()
    except OSError as exc:
        raise PictureError(f"cannot read {path}: {exc.strerror or exc}") from None
    return OpenedPicture(path=path, data=data, **_decode(data, path))


def _decode(data: bytes, path: Path) -> dict[str, Any]:
    from io import BytesIO

    with warnings.catch_warnings():
        # Pillow only warns between its own limit and twice it; any bomb is an error here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise PictureError(f"{path} is {width}x{height} pixels, over the limit of "
                                       f"{MAX_PIXELS // 1_000_000} megapixels (a decompression bomb?)")
                image.load()
                return {"image": normalise(image), "original_format": image.format or "?",
                        "original_mode": image.mode}
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PictureError(f"{path} has more pixels than the limit of {MAX_PIXELS // 1_000_000} megapixels "
                               "(a decompression bomb?)") from None
        except UnidentifiedImageError:
            raise PictureError(f"{path} is not an image chatimg can read") from None
        except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt files
            raise PictureError(f"{path} is not a readable image: {exc}") from None


def normalise(image: Image.Image) -> Image.Image:
    """An upright 8-bit RGB copy of ``image`` at its own size."""
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # an animation: its first frame
    try:
        image = ImageOps.exif_transpose(image)
    except (ValueError, TypeError, KeyError, OSError):  # a broken EXIF block: show it as stored
        pass
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        array = np.clip(array / top * 255.0, 0, 255).round().astype(np.uint8)
        return Image.fromarray(array, "L").convert("RGB")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return image.convert("RGB")


def fit_for_model(image: Image.Image, painter: Any) -> Image.Image:
    """``image`` at a size the painter paints well: the model's own size when it declares one
    (``chatimg.json``), else the aspect kept at about the model's native area in multiples of 8
    (``painter.native_size()``); else as it is. Idempotent: a fitted image comes back unchanged."""
    defaults = getattr(painter, "defaults", None)
    width, height = getattr(defaults, "width", None), getattr(defaults, "height", None)
    if width and height:
        target = (width, height)
    else:
        native = getattr(painter, "native_size", None)
        if not callable(native):
            return image  # a painter that says nothing of sizes takes what it is given
        native_w, native_h = native()
        area, native_area = image.width * image.height, native_w * native_h
        scale = 1.0 if 0.5 <= area / native_area <= 2.0 else math.sqrt(native_area / area)
        target = tuple(max(8, int(round(side * scale / 8)) * 8) for side in image.size)
    if image.size == target:
        return image
    return image.resize(target, Image.Resampling.LANCZOS)
