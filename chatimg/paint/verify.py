"""Self-check: paint a turn, and while the take misses, paint it again with new seeds.

A diffusion model misses now and then (the square comes out round, the other shape changes
colour too); another seed usually gets it right. ``paint_checked`` paints a turn, asks a
``Verifier`` (``chatimg.core.verdict``) about the take, paints it again with new seeds up to
``tries`` more times while it misses, and picks the best take; the engine keeps the other takes
as siblings in the session tree and adds ``summary`` ("the square came out round; took the
second try") to the reply. ``ClipVerifier`` judges any model's pictures with a transformers CLIP
model (``--verifier``); the built-in painter's judge is ``chatimg.shapeworld.verify``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from chatimg.core.model import SEEDED_MODES
from chatimg.core.verdict import Verdict, Verifier
from chatimg.paint.painter import PaintCancelled, PaintResult

#: Repaints after a miss when nothing else is said (``--verify-tries``).
DEFAULT_TRIES = 2
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


class ClipVerifier:
    """A transformers CLIP model as a judge, for models that do not paint the shape world.

    Landed: the picture matches the new prompt better than the old one (a first picture:
    at least ``min_match`` cosine similarity with its prompt). Kept: its image embedding stays
    within ``min_keep`` cosine similarity of the previous picture's."""

    def __init__(self, spec: str, device: str | None = "cpu", *, min_match: float = 0.2,
                 min_keep: float = 0.8) -> None:
        from transformers import CLIPModel, CLIPProcessor

        from chatimg.paint.vision_models import load_model_and_processor

        self.model, self.processor, self.device = load_model_and_processor(
            CLIPModel, CLIPProcessor, spec, "verifier", "CLIP", device)
        self.name = f"CLIP {Path(spec).name or spec}"
        self.min_match, self.min_keep = min_match, min_keep

    def _embed(self, texts: list[str], images: list[Image.Image]):
        import torch

        inputs = self.processor(text=texts, images=[im.convert("RGB") for im in images], return_tensors="pt",
                                padding=True, truncation=True)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.inference_mode():
            out = self.model(**inputs)
        text = torch.nn.functional.normalize(out.text_embeds.float(), dim=-1)
        image = torch.nn.functional.normalize(out.image_embeds.float(), dim=-1)
        return text, image

    def judge(self, prompt: str, image: Image.Image, *, before_prompt: str | None = None,
              before_image: Image.Image | None = None) -> Verdict:
        texts = [prompt] + ([before_prompt] if before_prompt and before_prompt != prompt else [])
        images = [image] + ([before_image] if before_image is not None else [])
        text, pictures = self._embed(texts, images)
        match = float(pictures[0] @ text[0])
        misses = []
        if len(texts) > 1:
            margin = match - float(pictures[0] @ text[1])
            landed = margin > 0
            if not landed:
                misses.append("the picture still matches the old description better than the new one")
        else:
            margin, landed = match, match >= self.min_match
            if not landed:
                misses.append("the picture does not match the description")
        keep = float(pictures[0] @ pictures[1]) if len(images) > 1 else 1.0
        kept = keep >= self.min_keep
        if not kept:
            misses.append("more of the picture changed than was asked")
        return Verdict(landed=landed, kept=kept, score=margin + min(keep, self.min_keep), misses=misses)


@dataclass
class Take:
    seed: int
    result: PaintResult
    verdict: Verdict | None = None


def retry_seed(seed: int, attempt: int) -> int:
    """The seed of repaint number ``attempt``: new, but the same every time for the same turn."""
    return random.Random(f"{seed}:{attempt}").randrange(2**31)


def paint_checked(paint: Callable[[int], PaintResult], seed: int, verifier: Verifier | None, tries: int, *,
                  prompt: str, before_prompt: str | None = None, before_image: Image.Image | None = None,
                  status: Callable[[str], None] = lambda _m: None,
                  cancelled: Callable[[], bool] = lambda: False) -> tuple[list[Take], int]:
    """Paint with ``paint(seed)``; while the take misses and was painted from noise (another
    seed gives another picture), paint again with a new seed, up to ``tries`` more times.
    Returns every take and the index of the best one (the first right one, else the highest score)."""
    takes = [Take(seed, paint(seed))]
    if verifier is None or tries <= 0 or takes[0].result.mode not in SEEDED_MODES:
        return takes, 0
    for attempt in range(tries + 1):
        take = takes[-1]
        status("checking the picture…")
        take.verdict = verifier.judge(prompt, take.result.image, before_prompt=before_prompt, before_image=before_image)
        if take.verdict is None or take.verdict.ok or attempt == tries:
            break
        if cancelled():
            raise PaintCancelled()
        status(f"{'; '.join(take.verdict.misses) or 'it missed'}: painting again (try {attempt + 2} of {tries + 1})…")
        new_seed = retry_seed(seed, attempt + 1)
        takes.append(Take(new_seed, paint(new_seed)))
    judged = [i for i, t in enumerate(takes) if t.verdict is not None]
    best = max(judged, key=lambda i: (takes[i].verdict.ok, takes[i].verdict.score, -i)) if judged else 0
    return takes, best


def summary(takes: list[Take], best: int) -> str:
    """What the self-check did, for the reply; empty when the first take was right (or unjudged)."""
    if len(takes) < 2:
        return ""
    first = takes[0].verdict
    what = "; ".join(first.misses[:2]) if first and first.misses else "the first try missed"
    chosen = takes[best].verdict
    if chosen is not None and chosen.ok:
        return f"{what}; took the {_ORDINALS[min(best, len(_ORDINALS) - 1)]} try"
    left = f": {'; '.join(chosen.misses[:2])}" if best and chosen and chosen.misses else ""
    return (f"{what}; none of {len(takes)} tries got it all right, so I kept the closest, "
            f"the {_ORDINALS[min(best, len(_ORDINALS) - 1)]}{left}")


def set_aside_reply(take: Take, number: int, total: int) -> str:
    """The reply of a take that was not kept (a sibling in the session tree)."""
    why = "; ".join(take.verdict.misses) if take.verdict and take.verdict.misses else "another try was better"
    return f"Try {number} of {total}, set aside: {why}."
