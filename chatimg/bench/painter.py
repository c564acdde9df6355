"""Fidelity benchmark of a shape-world painter: ``chatimg bench painter`` / ``python -m chatimg.bench.painter``.

* text -> image: paint held-out scenes (never trained on) from a varied caption and from the
  canonical prompt; the checker reads each image back; a scene counts only if every attribute
  (background, and each shape's kind, colour, size and position, and no extra shape) is right.
* one-attribute edits: render a held-out scene, ask for the same scene with one attribute
  changed (canonical prompt), at the strength the app uses for that kind of edit
  (``EDIT_STRENGTHS``) or at each of ``--strengths``; report the share where the changed
  attribute is right and the share where everything else is kept. Edits are painted by the
  app's own ``DiffusersPainter``: path ``app`` (the default) passes the region the app uses for
  that edit (``edit_region``: inpainting on that region, the rest kept exactly; a move is a cut
  and paste, a colour or size edit a retouch of the shape's pixels, ``chatimg.paint.retouch``), path
  ``img2img`` always repaints the whole image, as the benchmark did before the app painted regions.
* CPU time per image at the given step count and thread count.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import click

from chatimg.paint.retouch import retouch_of
from chatimg.shapeworld import (
    EDIT_STRENGTHS,
    Reading,
    Scene,
    canonical_prompt,
    caption,
    edit_region,
    random_edit,
    random_scene,
    read_image,
    render,
)
from chatimg.shapeworld.builtin import DEFAULT_GUIDANCE, DEFAULT_STEPS
from chatimg.shapeworld.regions import touched_positions
from chatimg.shapeworld.verify import scene_attributes

BENCH_KINDS = ("colour", "background", "position", "size", "shape", "add", "remove")
#: How edits are painted: ``app`` = the app's region for the edit (inpainting), ``img2img`` = whole image.
EDIT_PATHS = ("app", "img2img")


def attributes(scene: Scene | Reading) -> dict[str, object]:
    """Flat view: background, and for every position whether it holds a shape and that shape's attributes."""
    return scene_attributes(scene)


def changed_keys(before: Scene, after: Scene, kind: str) -> set[str]:
    """Attributes an edit of ``kind`` is meant to change (for moves/adds/removes: occupancy)."""
    a, b = attributes(before), attributes(after)
    if kind in ("position", "add", "remove"):
        return {k for k in set(a) | set(b) if k.endswith(".occupied") and a.get(k) != b.get(k)}
    return {k for k in set(a) | set(b) if a.get(k) != b.get(k)}


@dataclass
class EditScore:
    changed: bool  # the changed attribute is right
    kept: bool  # every other attribute is right (the edited shape's other attributes included)
    rest: bool  # the rest of the scene is right: the background (unless edited) and every untouched shape


def score_edit(before: Scene, after: Scene, kind: str, reading: Reading) -> EditScore:
    target, seen = attributes(after), attributes(reading)
    keys = changed_keys(before, after, kind)
    changed = all(seen.get(k) == target.get(k) for k in keys)
    rest = (set(target) | set(seen)) - keys
    touched = set(touched_positions(before, after))
    untouched = {k for k in rest if k.split(".")[0] not in touched}
    return EditScore(changed=changed, kept=all(seen.get(k) == target.get(k) for k in rest),
                     rest=all(seen.get(k) == target.get(k) for k in untouched))


def native_size(pipe) -> int:
    """Image side the painter was trained at (64 for the built-in one, 512 for SD 1.x/2.x-base)."""
    return int(pipe.unet.config.sample_size * pipe.vae_scale_factor)


def _batches(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def paint(pipe, prompts: list[str], seeds: list[int], steps: int, guidance: float, batch: int) -> list:
    import torch

    side = native_size(pipe)
    out = []
    for chunk in _batches(list(range(len(prompts))), batch):
        kwargs = dict(
            prompt=[prompts[i] for i in chunk], num_inference_steps=steps, guidance_scale=guidance,
            generator=[torch.Generator().manual_seed(seeds[i]) for i in chunk], height=side, width=side,
        )
        out.extend(pipe(**kwargs).images)
    return out


def bench_text_to_image(pipe, n: int, seed: int, steps: int, guidance: float, batch: int) -> dict:
    rng = random.Random(seed)
    scenes = [random_scene(rng, split="held_out") for _ in range(n)]
    result = {}
    for style in ("varied", "canonical"):
        prompts = [caption(s, rng) if style == "varied" else canonical_prompt(s) for s in scenes]
        images = paint(pipe, prompts, [seed + i for i in range(n)], steps, guidance, batch)
        readings = [read_image(im) for im in images]
        flat = [(attributes(s), attributes(r)) for s, r in zip(scenes, readings)]
        shape_keys = [(t, r, k) for t, r in flat for k in t if k.endswith((".shape", ".colour", ".size"))]
        result[style] = {
            "all_right": sum(t == r for t, r in flat) / n,
            "background": sum(t["background"] == r["background"] for t, r in flat) / n,
            "layout": sum(all(t[k] == r[k] for k in t if k.endswith(".occupied")) for t, r in flat) / n,
            "shape_attributes": sum(r.get(k) == t[k] for t, r, k in shape_keys) / len(shape_keys),
            "one_shape_all_right": share([t == r for (t, r), s in zip(flat, scenes) if len(s.shapes) == 1]),
            "two_shapes_all_right": share([t == r for (t, r), s in zip(flat, scenes) if len(s.shapes) == 2]),
        }
    return result


def share(values: list[bool]) -> float:
    """Share of true values (nan for none)."""
    return sum(values) / len(values) if values else float("nan")


def edit_cases(kind: str, n: int, seed: int) -> list[tuple[Scene, Scene]]:
    rng = random.Random(f"{seed}-{kind}")
    cases = []
    while len(cases) < n:
        scene = random_scene(rng, split="held_out")
        try:
            cases.append((scene, random_edit(scene, kind, rng)))
        except ValueError:
            continue
    return cases


def app_image_size(painter) -> tuple[int, int]:
    """Size of the images the app works on with ``painter``: its defaults, else what its first
    turn paints."""
    from chatimg.paint.painter import PaintRequest

    if painter.defaults.width and painter.defaults.height:
        return painter.defaults.width, painter.defaults.height
    return painter.paint(PaintRequest(prompt="a red circle", steps=1)).image.size


def paint_edit(painter, before: Scene, after: Scene, strength: float, path: str, seed: int, steps: int,
               guidance: float, size: tuple[int, int]):
    """Paint the edit ``before`` -> ``after`` as the app does: the previous image (a render of
    ``before``), the canonical prompt of ``after``, ``strength``, and for path ``app`` the region
    the app would use and, as the app does, the retouch of an edit that only recolours or resizes
    (``chatimg.paint.retouch``); path ``img2img`` repaints the whole image. Returns ``(PaintResult, region)``."""
    from chatimg.paint.painter import PaintRequest

    if path not in EDIT_PATHS:
        raise ValueError(f"unknown edit path {path!r}; expected one of {EDIT_PATHS}")
    region = edit_region(before, after) if path == "app" else "whole"
    source = render(before, seed=seed, size=size[0])
    if source.size != size:
        source = source.resize(size)
    retouch = retouch_of(canonical_prompt(before), canonical_prompt(after)) if path == "app" else None
    request = PaintRequest(prompt=canonical_prompt(after), init_image=source, strength=strength, region=region,
                           seed=seed, steps=steps, guidance=guidance, retouch=retouch)
    return painter.paint(request), region


def bench_edits(painter, kind: str, strength: float, n: int, seed: int, steps: int, guidance: float,
                path: str = "app", size: tuple[int, int] | None = None) -> dict:
    size = size or app_image_size(painter)
    scores, regional = [], 0
    for i, (before, after) in enumerate(edit_cases(kind, n, seed)):
        result, _ = paint_edit(painter, before, after, strength, path, seed + i, steps, guidance, size)
        regional += result.mode in ("inpaint", "move", "retouch")
        scores.append(score_edit(before, after, kind, read_image(result.image)))
    return {
        "path": path, "strength": strength, "n": n,
        "region_share": regional / n if n else float("nan"),
        "changed": share([s.changed for s in scores]),
        "kept": share([s.kept for s in scores]),
        "rest": share([s.rest for s in scores]),
        "both": share([s.changed and s.kept for s in scores]),
    }


def time_per_image(pipe, img2img, steps: int, guidance: float, repeats: int = 8) -> dict:
    import torch

    prompt = "a big red circle on the left and a small blue square on the right, on a green background"
    side = native_size(pipe)
    source = render(random_scene(0), size=side)
    pipe(prompt, num_inference_steps=steps, guidance_scale=guidance, height=side, width=side)
    start = time.perf_counter()
    for i in range(repeats):
        pipe(prompt, num_inference_steps=steps, guidance_scale=guidance, height=side, width=side,
             generator=torch.Generator().manual_seed(i))
    t2i = (time.perf_counter() - start) / repeats
    start = time.perf_counter()
    for i in range(repeats):
        img2img(prompt, image=source, strength=EDIT_STRENGTHS["colour"], num_inference_steps=steps,
                guidance_scale=guidance, generator=torch.Generator().manual_seed(i))
    i2i = (time.perf_counter() - start) / repeats
    return {"text_to_image_s": t2i, "img2img_s": i2i, "threads": torch.get_num_threads(), "steps": steps}


def _pct(x: float) -> str:
    return "  n/a" if x != x else f"{100 * x:5.1f}%"


def print_report(report: dict) -> None:
    echo = click.echo
    echo(f"painter benchmark: {report['model']}  steps={report['steps']} guidance={report['guidance']} "
         f"seed={report['seed']}")
    if "text_to_image" in report:
        t2i = report["text_to_image"]
        echo(f"\ntext -> image, {report['scenes']} held-out scenes")
        echo(f"{'prompt':<10} {'all right':>9} {'1 shape':>8} {'2 shapes':>8} {'backgr.':>8} {'layout':>8} {'shape attr':>10}")
        for style, r in t2i.items():
            echo(f"{style:<10} {_pct(r['all_right']):>9} {_pct(r['one_shape_all_right']):>8} "
                 f"{_pct(r['two_shapes_all_right']):>8} {_pct(r['background']):>8} {_pct(r['layout']):>8} "
                 f"{_pct(r['shape_attributes']):>10}")
    if report.get("edits"):
        echo("\none-attribute edits (canonical prompt, rendered source; path app = the app's region, "
             "img2img = whole image)")
        echo("region: share painted by inpainting a region, or moving or retouching a cut-out; kept: all other attributes right; rest: the "
             "background and untouched shapes right")
        echo(f"{'edit':<11} {'path':<8} {'strength':>8} {'n':>4} {'region':>7} {'changed':>8} {'kept':>8} {'both':>8} "
             f"{'rest':>8}")
        for kind, rows in report["edits"].items():
            for r in rows:
                echo(f"{kind:<11} {r['path']:<8} {r['strength']:>8.2f} {r['n']:>4} {_pct(r['region_share']):>7} "
                     f"{_pct(r['changed']):>8} {_pct(r['kept']):>8} {_pct(r['both']):>8} {_pct(r['rest']):>8}")
    if "timing" in report:
        t = report["timing"]
        echo(f"\nCPU time per image ({t['threads']} threads, {t['steps']} steps): "
             f"text->image {t['text_to_image_s']:.3f} s, img2img {t['img2img_s']:.3f} s")


@click.command("painter")
@click.option("--model", default="builtin", show_default=True,
              help="'builtin', a pipeline folder (e.g. runs/painter/exports/step-4000) or a Hub id.")
@click.option("--scenes", default=200, show_default=True, help="Held-out scenes for text -> image.")
@click.option("--edits", default=60, show_default=True, help="Edits per kind.")
@click.option("--kinds", default=",".join(BENCH_KINDS), show_default=True, help="Edit kinds, comma-separated.")
@click.option("--strengths", default=None,
              help="Comma-separated strengths to sweep for every edit kind (default: the app's EDIT_STRENGTHS).")
@click.option("--path", "paths", type=click.Choice(EDIT_PATHS), multiple=True, default=("app",), show_default=True,
              help="How edits are painted: 'app' (the app's region, inpainting) or 'img2img' (whole image); "
                   "repeat to compare both in one run.")
@click.option("--steps", default=DEFAULT_STEPS, show_default=True)
@click.option("--guidance", default=DEFAULT_GUIDANCE, show_default=True)
@click.option("--seed", default=1234, show_default=True)
@click.option("--batch", default=25, show_default=True, help="Images per text -> image pipeline call (speed only).")
@click.option("--threads", default=2, show_default=True, help="torch CPU threads.")
@click.option("--skip", type=click.Choice(["t2i", "edits", "timing"]), multiple=True, help="Parts to skip.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None, help="Also write results here.")
def painter_command(model: str, scenes: int, edits: int, kinds: str, strengths: str | None,
                    paths: tuple[str, ...], steps: int,
                    guidance: float, seed: int, batch: int, threads: int, skip: tuple[str, ...],
                    json_path: Path | None) -> None:
    """Measure how faithfully a painter draws and edits shape-world scenes."""
    import torch

    from chatimg.paint.painter import load_painter

    torch.set_num_threads(threads)
    report: dict = {"model": model, "steps": steps, "guidance": guidance, "seed": seed, "scenes": scenes}
    painter = load_painter(model)  # as the app loads it: same folder handling, device and dtype
    torch.set_num_threads(threads)  # CHATIMG_THREADS, if set, does not override --threads
    pipe, img2img = painter.pipeline("txt2img"), painter.pipeline("img2img")  # one set of weights
    if "t2i" not in skip:
        report["text_to_image"] = bench_text_to_image(pipe, scenes, seed, steps, guidance, batch)
    if "edits" not in skip:
        size = app_image_size(painter)
        report["edits"] = {}
        sweep = [float(s) for s in strengths.split(",")] if strengths else None
        for kind in [k.strip() for k in kinds.split(",") if k.strip()]:
            report["edits"][kind] = [
                bench_edits(painter, kind, s, edits, seed, steps, guidance, path, size)
                for s in (sweep or [EDIT_STRENGTHS[kind]]) for path in dict.fromkeys(paths)
            ]
    if "timing" not in skip:
        report["timing"] = time_per_image(pipe, img2img, steps, guidance)
    print_report(report)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    painter_command()
