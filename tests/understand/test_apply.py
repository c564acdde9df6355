from chatimg.core.ops import Add, Recolour, Replace, SetBackground
from chatimg.understand.apply import apply

KITCHEN = "a wooden chair next to a table with two cups on it, in a kitchen"


def test_a_replace_rewrites_the_phrase_where_it_stands():
    assert apply([Replace(old="two cups", new="3 cups")], KITCHEN) == \
        "a wooden chair next to a table with 3 cups on it, in a kitchen"
    assert apply([Replace(old="three dogs", new="one dog")], KITCHEN) is None


def test_a_new_background_replaces_the_old_setting_and_keeps_the_rest():
    assert apply([SetBackground(value="a park")], KITCHEN) == "a wooden chair next to a table with two cups on it, in a park"
    assert apply([SetBackground(value="pastel pink")], "a red apple on a white background, studio photo") == \
        "a red apple on a pastel pink background, studio photo"
    assert apply([SetBackground(value="a park")], "a teddy bear, on a bed") == "a teddy bear, on a bed, in a park"


def test_a_recolour_and_an_op_it_cannot_apply():
    assert apply([Recolour(target="table", colour="white")], KITCHEN).startswith("a wooden chair next to a white table")
    assert apply([Add(thing="a cat")], KITCHEN) is None
