from chatimg.core.ops import Add, Recolour, Replace, SetBackground, Swap
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
    assert apply([Swap(a="chair", b="table")], KITCHEN) is None  # a free prompt has no places to swap


def test_adds_removes_aspects_and_sizes():
    from chatimg.core.ops import Remove, Resize, SetAspect

    cabin = "a cabin in the woods, during the day, photo"
    assert apply([Add(thing="a deer")], cabin) == "a cabin in the woods, during the day, a deer, photo"
    assert apply([SetAspect(slot="time", value="night")], cabin) == "a cabin in the woods at night, photo"
    assert apply([Remove(target="lamp")], "a teddy bear holding a glove, on a bed, a lamp on the left") == \
        "a teddy bear holding a glove, on a bed"
    assert apply([Remove(target="dog")], KITCHEN) is None
    assert "big table" in apply([Resize(target="table", size="bigger")], KITCHEN)


def test_a_beach_is_something_one_is_on():
    assert apply([SetBackground(value="a beach")], "three ducks, in a pond") == "three ducks, on a beach"
