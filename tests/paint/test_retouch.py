"""Which turns only recolour or resize things (decided from the prompts alone), and with which RGB."""

from __future__ import annotations

import pytest

from chatimg.paint.retouch import SIZE_STEP, Retouch, colour_rgb, retouch_of
from chatimg.shapeworld.vocab import COLOURS, SYNONYMS

SCENE = "a small {} square on the left and a big yellow circle on the right, black background"


@pytest.mark.parametrize("before, after, changes, others", [
    (SCENE.format("purple"), SCENE.format("white"), [("purple", "white")], ("yellow",)),
    ("a red car", "a teal car", [("red", "teal")], ()),
    ("a square", "a red square", [(None, "red")], ()),  # a colour given to a thing that had none
    ("A Red Car.", "a golden car.", [("red", "golden")], ()),
    ("a red circle and a blue square, white background", "a blue circle and a red square, white background",
     [("red", "blue"), ("blue", "red")], ()),  # "swap the colours"
    ("a white square and an orange circle", "a green square and a green circle",
     [("white", "green"), ("orange", "green")], ()),  # "make them both green"
])
def test_colour_words_swapped_or_added_for_things_are_a_retouch(before, after, changes, others):
    assert retouch_of(before, after) == Retouch(tuple(changes), others)


@pytest.mark.parametrize("before, after", [
    ("a red circle on a blue background", "a red circle on a green background"),  # the backdrop's colour
    ("a red circle, blue backdrop", "a red circle, green backdrop"),
    ("a red car", "a blue car on a street"),  # more than the colour changed
    ("a big circle and a big square", "a small circle and a small square"),  # two things resized
    ("a cat", "a big cat"),  # how big was it?
    ("a big red circle", "a big red circle, at night"),
    ("a cat", "a rainbow cat"),  # no single colour
    ("a red car", "a dark red car"),  # two words
    ("a bowl of chocolate", "a bowl of tomato"),  # nouns, not colours
    ("a cat", "a cat, red"),  # a colour of nothing
    ("a red square", "a red square"),
    ("a red circle on a blue background", "a green circle on a red background"),  # the backdrop too
])
def test_anything_else_is_not(before, after):
    assert retouch_of(before, after) is None


def test_the_shape_worlds_colours_come_from_its_palette_others_from_css():
    assert colour_rgb("green", COLOURS, SYNONYMS) == COLOURS["green"]
    assert colour_rgb("scarlet", COLOURS, SYNONYMS) == COLOURS["red"]  # its synonym
    assert colour_rgb("green") == (0, 128, 0)  # CSS green for any other model
    assert colour_rgb("pink", COLOURS, SYNONYMS) == (255, 192, 203)  # a word the palette lacks
    assert colour_rgb("mint") is not None and colour_rgb("rainbow") is None


def test_a_recolour_in_rgb_needs_every_word_to_have_one_colour():
    assert Retouch((("purple", "scarlet"),), ("white",)).rgb(COLOURS, SYNONYMS) == (
        [(COLOURS["purple"], COLOURS["red"])], [COLOURS["white"]])
    assert Retouch(((None, "red"),)).rgb() == ([(None, (255, 0, 0))], [])
    assert Retouch((("red", "blue"),), ("rainbow",)).rgb() is None


def test_a_size_word_replaced_resizes_the_thing_by_the_shape_worlds_step():
    assert retouch_of("a big red circle", "a small red circle") == Retouch((), ("red",), 1 / SIZE_STEP)
    assert retouch_of("a small yellow square at the top", "a big red square at the top") == Retouch(
        (("yellow", "red"),), (), SIZE_STEP)  # "make it big and red"
    assert 1.7 < SIZE_STEP < 1.9
