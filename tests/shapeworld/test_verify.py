"""The shape-world checker as the self-check's judge: what it passes and how it says what missed."""

from __future__ import annotations

from chatimg.shapeworld.verify import ShapeWorldVerifier
from tests.shapeworld.pictures import BLUE_SQUARE, RED_SQUARE, TWO, picture


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
