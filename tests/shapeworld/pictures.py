"""Shape-world scenes and their drawings, shared by the tests of the self-check's judges."""

from __future__ import annotations

from dataclasses import replace

from chatimg.shapeworld import Scene, parse_prompt, render

RED_SQUARE = "a big red square on the left, on a white background"
BLUE_SQUARE = "a big blue square on the left, on a white background"
TWO = "a big red square on the left and a small blue circle on the right, on a white background"


def picture(prompt: str, seed: int = 0, **changes) -> object:
    """The shape world's own drawing of ``prompt``, with the first shape's attributes changed."""
    scene = parse_prompt(prompt, defaults=True)
    if changes:
        first = replace(scene.shapes[0], **changes)
        scene = Scene(background=scene.background, shapes=(first, *scene.shapes[1:]))
    return render(scene, seed=seed)
