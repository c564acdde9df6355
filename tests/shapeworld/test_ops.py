from chatimg.core.ops import Add, Move, Recolour, Remove, Replace, Resize, SetBackground, Swap
from chatimg.shapeworld import parse_prompt
from chatimg.shapeworld.ops import ops_between

PAIR = "a big red circle on the left and a small blue square on the right, on a green background"


def diff(before: str, after: str):
    return ops_between(parse_prompt(before, defaults=True), parse_prompt(after, defaults=True))


def test_each_attribute_of_a_shape_is_its_own_op():
    after = "a small yellow square on the left and a small blue square on the right, on a green background"
    assert diff(PAIR, after) == [Replace(old="red circle", new="a red square"),
                                 Recolour(target="red square", colour="yellow"),
                                 Resize(target="yellow square", size="small")]


def test_moves_swaps_adds_removes_and_the_background():
    assert diff(PAIR, "a big red circle on the right and a small blue square on the left, on a green background") == \
        [Swap(a="red circle", b="blue square")]
    assert diff("a big red circle on the left, on a green background",
                "a big red circle on the top, on a green background") == [Move(target="red circle", to="top")]
    assert diff("a big red circle on the left, on a green background", PAIR) == \
        [Add(thing="a small blue square", where="right")]
    assert diff(PAIR, "a big red circle on the left, on a green background") == [Remove(target="blue square")]
    assert diff(PAIR, PAIR.replace("green background", "white background")) == [SetBackground(value="white")]
    assert diff(PAIR, PAIR) == []
