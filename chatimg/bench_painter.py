"""Fidelity benchmark of a shape-world painter: ``chatimg bench painter`` / ``python -m chatimg.bench_painter``.

* text -> image: paint held-out scenes (never trained on) from a varied caption and from the
  canonical prompt; the checker reads each image back; a scene counts only if every attribute
  (background, and each shape's kind, colour, size and position, and no extra shape) is right.
* one-attribute edits via img2img: render a held-out scene, ask for the same scene with one
  attribute changed (canonical prompt), at the strength the app uses for that kind of edit
  (``EDIT_STRENGTHS``) or at each of ``--strengths``; report the share where the changed
  attribute is right and the share where everything else is kept.
* CPU time per image at the given step count and thread count.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import click

from chatimg.builtin_painter import BUILTIN_PAINTER_DIR, DEFAULT_GUIDANCE, DEFAULT_STEPS
from chatimg.shapeworld import (
    EDIT_STRENGTHS, POSITIONS, Reading, Scene, canonical_prompt, caption, random_edit, random_scene, read_image,
    render,
)

BENCH_KINDS = ("colour", "background", "position", "size", "shape", "add", "remove")


def attributes(scene: Scene | Reading) -> dict[str, object]:
    """Flat view: background, and for every position whether it holds a shape and that shape's attributes."""
    flat: dict[str, object] = {"background": scene.background}
    shapes = scene.shapes
    for position in POSITIONS:
        here = [s for s in shapes if s.position == position]
        flat[f"{position}.occupied"] = len(here)
        if here:
            flat[f"{position}.shape"] = here[0].shape
            flat[f"{position}.colour"] = here[0].colour
            flat[f"{position}.size"] = here[0].size
    return flat


def changed_keys(before: Scene, after: Scene, kind: str) -> set[str]:
    """Attributes an edit of ``kind`` is meant to change (for moves/adds/removes: occupancy)."""
    a, b = attributes(before), attributes(after)
    if kind in ("position", "add", "remove"):
        return {k for k in set(a) | set(b) if k.endswith(".occupied") and a.get(k) != b.get(k)}
    return {k for k in set(a) | set(b) if a.get(k) != b.get(k)}


@dataclass
class EditScore:
    changed: bool
    kept: bool


def score_edit(before: Scene, after: Scene, kind: str, reading: Reading) -> EditScore:
    target, seen = attributes(after), attributes(reading)
    keys = changed_keys(before, after, kind)
    changed = all(seen.get(k) == target.get(k) for k in keys)
    rest = (set(target) | set(seen)) - keys
    return EditScore(changed=changed, kept=all(seen.get(k) == target.get(k) for k in rest))


def load_pipelines(model: str):
    """(text2img, img2img) sharing weights. ``builtin`` or a folder without its own text encoder
    gets MiniLM from its package; anything else loads as an ordinary diffusers pipeline."""
    from diffusers import StableDiffusionImg2ImgPipeline, StableDiffusionPipeline

    from chatimg.builtin_painter import load_builtin_pipeline

    folder = BUILTIN_PAINTER_DIR if model == "builtin" else Path(model)
    if folder.is_dir() and not (folder / "text_encoder").is_dir():
        pipe = load_builtin_pipeline(folder)
    else:
        pipe = StableDiffusionPipeline.from_pretrained(model, safety_checker=None, requires_safety_checker=False)
        pipe.set_progress_bar_config(disable=True)
    img2img = StableDiffusionImg2ImgPipeline(**pipe.components)
    img2img.set_progress_bar_config(disable=True)
    return pipe, img2img


def native_size(pipe) -> int:
    """Image side the painter was trained at (64 for the built-in one, 512 for SD 1.x/2.x-base)."""
    return int(pipe.unet.config.sample_size * pipe.vae_scale_factor)


def _batches(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def paint(pipe, prompts: list[str], seeds: list[int], steps: int, guidance: float, batch: int,
          images: list | None = None, strength: float | None = None) -> list:
    import torch

    side = native_size(pipe)
    out = []
    for chunk in _batches(list(range(len(prompts))), batch):
        kwargs = dict(
            prompt=[prompts[i] for i in chunk], num_inference_steps=steps, guidance_scale=guidance,
            generator=[torch.Generator().manual_seed(seeds[i]) for i in chunk],
        )
        if images is None:
            kwargs.update(height=side, width=side)
        else:
            kwargs.update(image=[images[i].resize((side, side)) for i in chunk], strength=strength)
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
            "one_shape_all_right": _share([t == r for (t, r), s in zip(flat, scenes) if len(s.shapes) == 1]),
            "two_shapes_all_right": _share([t == r for (t, r), s in zip(flat, scenes) if len(s.shapes) == 2]),
        }
    return result


def _share(values: list[bool]) -> float:
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


def bench_edits(img2img, kind: str, strength: float, n: int, seed: int, steps: int, guidance: float,
                batch: int) -> dict:
    cases = edit_cases(kind, n, seed)
    sources = [render(before, seed=seed + i) for i, (before, _) in enumerate(cases)]
    prompts = [canonical_prompt(after) for _, after in cases]
    images = paint(img2img, prompts, [seed + i for i in range(n)], steps, guidance, batch, sources, strength)
    scores = [score_edit(b, a, kind, read_image(im)) for (b, a), im in zip(cases, images)]
    return {
        "strength": strength, "n": n,
        "changed": _share([s.changed for s in scores]),
        "kept": _share([s.kept for s in scores]),
        "both": _share([s.changed and s.kept for s in scores]),
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
        echo(f"\nimg2img one-attribute edits (canonical prompt, rendered source)")
        echo(f"{'edit':<11} {'strength':>8} {'n':>4} {'changed':>8} {'kept':>8} {'both':>8}")
        for kind, rows in report["edits"].items():
            for r in rows:
                echo(f"{kind:<11} {r['strength']:>8.2f} {r['n']:>4} {_pct(r['changed']):>8} {_pct(r['kept']):>8} "
                     f"{_pct(r['both']):>8}")
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
@click.option("--steps", default=DEFAULT_STEPS, show_default=True)
@click.option("--guidance", default=DEFAULT_GUIDANCE, show_default=True)
@click.option("--seed", default=1234, show_default=True)
@click.option("--batch", default=25, show_default=True, help="Images per pipeline call (speed only).")
@click.option("--threads", default=2, show_default=True, help="torch CPU threads.")
@click.option("--skip", type=click.Choice(["t2i", "edits", "timing"]), multiple=True, help="Parts to skip.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None, help="Also write results here.")
def painter_command(model: str, scenes: int, edits: int, kinds: str, strengths: str | None, steps: int,
                    guidance: float, seed: int, batch: int, threads: int, skip: tuple[str, ...],
                    json_path: Path | None) -> None:
    """Measure how faithfully a painter draws and edits shape-world scenes."""
    import torch

    torch.set_num_threads(threads)
    pipe, img2img = load_pipelines(model)
    report: dict = {"model": model, "steps": steps, "guidance": guidance, "seed": seed, "scenes": scenes}
    if "t2i" not in skip:
        report["text_to_image"] = bench_text_to_image(pipe, scenes, seed, steps, guidance, batch)
    if "edits" not in skip:
        report["edits"] = {}
        sweep = [float(s) for s in strengths.split(",")] if strengths else None
        for kind in [k.strip() for k in kinds.split(",") if k.strip()]:
            report["edits"][kind] = [
                bench_edits(img2img, kind, s, edits, seed, steps, guidance, batch)
                for s in (sweep or [EDIT_STRENGTHS[kind]])
            ]
    if "timing" not in skip:
        report["timing"] = time_per_image(pipe, img2img, steps, guidance)
    print_report(report)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    painter_command()
