"""Masks by words: a text-prompted segmentation model (CLIPSeg) finds "the cat" in any picture.

Without one, an edit of a named thing on a photo repaints the whole picture (only the shape
world's flat backdrops can be cut by colour). ``SegmentingPainter`` wraps any painter: when
an edit's region names a thing and the picture is not a flat backdrop, the segmenter's mask is
shown (a status line, a preview of the picture with the mask tinted, a note) before painting,
and the painter inpaints that mask and pastes the result back onto the untouched picture.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from chatimg.core.model import NAMED_REGIONS, parse_moves, split_moves
from chatimg.paint.masks import edit_mask, nearest_anchor
from chatimg.paint.painter import PaintRequest, PaintResult, StepUpdate

#: A pixel belongs to the thing when the model's probability for it is above this.
THRESHOLD = 0.4
#: How far (pixels) the mask is grown past what the model found, to take in the thing's edge;
#: with the soft edge below this keeps every changed pixel within 4 pixels of the found mask.
GROW = 1
SOFT_EDGE = 1.0


def names_a_thing(region: str) -> bool:
    """True when ``region`` is the name of a thing ("cat", "the red car"), not a side, the
    centre, the background, the whole picture or a move."""
    return bool(region) and region not in NAMED_REGIONS and not parse_moves(region) and not split_moves(region)


class ClipSegSegmenter:
    """A transformers CLIPSeg model (``CIDAS/clipseg-rd64-refined`` or a folder)."""

    def __init__(self, spec: str, device: str | None = "cpu", threshold: float = THRESHOLD) -> None:
        from transformers import CLIPSegForImageSegmentation, CLIPSegProcessor

        from chatimg.paint.vision_models import load_model_and_processor

        self.model, self.processor, self.device = load_model_and_processor(
            CLIPSegForImageSegmentation, CLIPSegProcessor, spec, "segmenter", "CLIPSeg", device)
        self.threshold = threshold
        self.name = f"CLIPSeg {Path(spec).name or spec}"

    def probabilities(self, image: Image.Image, target: str) -> np.ndarray:
        """Per pixel of ``image``, how likely it shows ``target`` (0..1)."""
        import torch

        inputs = self.processor(text=[target], images=[image.convert("RGB")], return_tensors="pt", padding=True)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.inference_mode():
            logits = self.model(**inputs).logits
        logits = logits.reshape(-1, *logits.shape[-2:])[0].float()
        resized = torch.nn.functional.interpolate(logits[None, None], size=(image.height, image.width),
                                                  mode="bilinear", align_corners=False)[0, 0]
        return torch.sigmoid(resized).cpu().numpy()

    def mask(self, image: Image.Image, target: str) -> Image.Image | None:
        """White where ``target`` is (grown a pixel, a soft edge), or ``None`` if it is nowhere."""
        found = self.probabilities(image, target) > self.threshold
        if not found.any():
            return None
        mask = Image.fromarray((found * 255).astype(np.uint8)).filter(ImageFilter.MaxFilter(2 * GROW + 1))
        return mask.filter(ImageFilter.GaussianBlur(SOFT_EDGE))


def load_segmenter(spec: str, device: str | None = "cpu", progress: Callable[[str], None] | None = None):
    (progress or (lambda _m: None))(f"loading segmenter {spec}…")
    return ClipSegSegmenter(spec, device=device if device not in (None, "auto") else "cpu")


def describe_mask(mask: Image.Image, target: str) -> str:
    """``masked 'cat': 18 % of the picture, on the left`` (the note shown before painting)."""
    weights = np.asarray(mask, dtype=np.float32) / 255.0
    ys, xs = np.nonzero(weights > 0.5)
    share = float((weights > 0.5).mean())
    if not len(xs):
        return f"masked {target!r}: a sliver of the picture"
    where = nearest_anchor((xs.mean() / mask.width, ys.mean() / mask.height))
    place = "in the center" if where == "center" else (f"at the {where}" if where in ("top", "bottom")
                                                       else f"on the {where}")
    return f"masked {target!r}: {share:.0%} of the picture, {place}"


def mask_preview(image: Image.Image, mask: Image.Image) -> Image.Image:
    """``image`` with the mask tinted red: what will be repainted."""
    tint = Image.new("RGB", image.size, (255, 40, 40))
    alpha = mask.point(lambda v: v * 0.55)
    return Image.composite(tint, image.convert("RGB"), alpha)


class SegmentingPainter:
    """Any painter, with edits of a named thing masked by ``segmenter`` first."""

    def __init__(self, painter: Any, segmenter: Any, status: Callable[[str], None] | None = None) -> None:
        self.painter = painter
        self.segmenter = segmenter
        self._status = status or (lambda _m: None)
        self._last: tuple[Any, str, Image.Image | None] | None = None  # (picture, target, mask): a retry reuses it

    def __getattr__(self, name: str) -> Any:  # name, defaults, pipeline(): the painter's own
        return getattr(self.painter, name)

    def paint(self, request: PaintRequest, on_step: Callable[[StepUpdate], None] | None = None,
              cancel: Any = None) -> PaintResult:
        note = None
        image = request.init_image
        if (image is not None and request.mask is None and names_a_thing(request.region)
                and edit_mask(request.region, image) is None):
            if self._last is None or self._last[0] is not image or self._last[1] != request.region:
                self._last = (image, request.region, self.segmenter.mask(image, request.region))
            mask = self._last[2]
            if mask is None:
                note = f"the segmenter found no {request.region!r}: edited the whole image"
                request = replace(request, region="whole")
            else:
                note = describe_mask(mask, request.region)
                request = replace(request, mask=mask)
                if on_step is not None:
                    on_step(StepUpdate(step=0, total=1, preview=mask_preview(image, mask)))
            self._status(note)
        result = self.painter.paint(request, on_step=on_step, cancel=cancel)
        if note:
            result.notes.insert(0, note)
        return result
