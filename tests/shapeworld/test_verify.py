"""The shape-world checker as the self-check's judge: what it passes and how it says what missed."""

from __future__ import annotations

from dataclasses import replace

from chatimg.shapeworld import Scene, parse_prompt, render
from chatimg.shapeworld.verify import ShapeWorldVerifier

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


def test_the_checker_passes_a_right_picture_and_names_what_came_out_wrong():
    judge = ShapeWorldVerifier()
    assert judge.judge(RED_SQUARE, picture(RED_SQUARE)).ok
    round_one = judge.judge(RED_SQUARE, picture(RED_SQUARE, shape="circle"))
    assert not round_one.landed and round_one.misses == ["the square came out round"]
    green = judge.judge(BLUE_SQUARE, picture(BLUE_SQUARE, colour="green"), before_prompt=RED_SQUARE,
                        before_image=picture(RED_SQUARE))
    assert not green.landed and green.kept and green.misses == ["the square on the left came out green, not blue"]
    assert judge.judge("a cat on a sofa", picture(RED_SQUARE)) is None  # not the shape world: cannot tell


def test_the_checker_sees_what_changed_that_was_not_asked_for():
    judge = ShapeWorldVerifier()
    before = picture(TWO)
    after_prompt = TWO.replace("small blue circle", "small yellow circle")
    both_changed = picture(after_prompt, colour="green")  # the circle turned yellow, and the square green
    verdict = judge.judge(after_prompt, both_changed, before_prompt=TWO, before_image=before)
    assert verdict.landed and not verdict.kept
    assert verdict.misses == ["the square on the left changed too (now green)"]
    assert judge.judge(after_prompt, picture(after_prompt), before_prompt=TWO, before_image=before).score == 1.0
