"""The conversation benchmark's scoring, on rendered images whose content is known."""

from chatimg.bench.conversation import TurnScore, score_turn, summarise
from chatimg.shapeworld import canonical_prompt, render
from chatimg.shapeworld.scene import Scene, Shape

CIRCLE = Shape("circle", "red", "big", "left")
SQUARE = Shape("square", "blue", "small", "right")
BEFORE = Scene("green", (CIRCLE, SQUARE))


def test_a_turn_follows_the_change_and_keeps_the_rest():
    after = Scene("green", (CIRCLE, Shape("square", "yellow", "small", "right")))
    assert score_turn(canonical_prompt(BEFORE), canonical_prompt(after), render(BEFORE, seed=1),
                      render(after, seed=1)) == (True, True)


def test_a_turn_that_also_changes_something_else_does_not_keep():
    after = Scene("green", (CIRCLE, Shape("square", "yellow", "small", "right")))
    painted = Scene("green", (Shape("circle", "red", "small", "left"), Shape("square", "yellow", "small", "right")))
    assert score_turn(canonical_prompt(BEFORE), canonical_prompt(after), render(BEFORE, seed=1),
                      render(painted, seed=1)) == (True, False)


def test_a_turn_that_misses_the_change_does_not_follow():
    after = Scene("purple", (CIRCLE, SQUARE))
    assert score_turn(canonical_prompt(BEFORE), canonical_prompt(after), render(BEFORE, seed=1),
                      render(BEFORE, seed=2)) == (False, True)


def test_keeping_is_judged_against_the_previous_image_not_the_prompt():
    # The painter drew the circle small although the prompt says big: that error belongs to the
    # turn that made it, so a later recolour that keeps the small circle still keeps everything.
    drawn = Scene("green", (Shape("circle", "red", "small", "left"), SQUARE))
    after = Scene("white", (CIRCLE, SQUARE))
    drawn_after = Scene("white", drawn.shapes)
    assert score_turn(canonical_prompt(BEFORE), canonical_prompt(after), render(drawn, seed=1),
                      render(drawn_after, seed=1)) == (True, True)


def test_summary_counts_conversations_that_always_keep():
    scores = [TurnScore("a", "m", "p", "inpaint", True, True, 0.1), TurnScore("a", "m", "p", "move", True, False, 0.2),
              TurnScore("b", "m", "p", "inpaint", False, True, 0.3)]
    summary = summarise(scores)
    assert summary["conversations"] == 2 and summary["turns"] == 3
    assert summary["conversations_keeping_everything"] == 0.5 and round(summary["both"], 3) == 0.333
    assert summary["modes"] == {"inpaint": 2, "move": 1}


def test_a_moved_shape_is_judged_by_how_it_looked_not_by_the_prompt():
    # The painter drew the square as a circle on turn one; moving that circle faithfully follows
    # "move the square to the top".
    before = Scene("green", (Shape("square", "red", "big", "left"),))
    after = Scene("green", (Shape("square", "red", "big", "top"),))
    drawn = Scene("green", (Shape("circle", "red", "big", "left"),))
    moved = Scene("green", (Shape("circle", "red", "big", "top"),))
    assert score_turn(canonical_prompt(before), canonical_prompt(after), render(drawn, seed=1),
                      render(moved, seed=1)) == (True, True)
    assert score_turn(canonical_prompt(before), canonical_prompt(after), render(drawn, seed=1),
                      render(drawn, seed=1)) == (False, True)  # not moved at all
