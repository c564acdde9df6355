import pytest

from chatimg.core.ops import Recolour, Replace, SetBackground
from chatimg.understand.instructions import strip_keep, understand

KITCHEN = "a wooden chair next to a table with two cups on it, in a kitchen"


@pytest.mark.parametrize("message", ["Change the count of the cups to 3", "make the cups 3", "there should be 3 cups",
                                     "change the number of cups to 3."])
def test_a_count_rewrites_the_prompts_own_count(message):
    assert understand(KITCHEN, message) == [Replace(old="two cups", new="3 cups")]


def test_fewer_things_become_singular_and_an_unchanged_count_is_no_op():
    assert understand("three ducks in a pond", "actually just one duck") == [Replace(old="three ducks", new="one duck")]
    assert understand("three ducks in a pond", "only two ducks please") == [Replace(old="three ducks", new="two ducks")]
    assert understand(KITCHEN, "there should be two cups") == []


def test_a_material_replaces_the_old_one_instead_of_stacking():
    expected = [Replace(old="a wooden chair", new="a metal chair")]
    assert understand(KITCHEN, "Change the material of the wooden chair to metal") == expected
    assert understand(KITCHEN, "make the wooden chair metal") == expected


def test_colours_and_backgrounds():
    assert understand(KITCHEN, "Change the color of the table to white") == [Recolour(target="table", colour="white")]
    assert understand("three ducks in a pond", "make the pond pastel pink") == \
        [Recolour(target="pond", colour="pastel pink")]
    assert understand(KITCHEN, "change the background to a park") == [SetBackground(value="a park")]


def test_requests_it_does_not_know_are_left_to_others():
    assert understand(KITCHEN, "add a cat") is None
    assert understand(KITCHEN, "change the count of the dogs to 3") is None  # no dogs to count


def test_keep_unchanged_is_taken_off_the_request():
    assert strip_keep("Change the background to a park, keep the bear unchanged") == \
        ("Change the background to a park", "the bear")
    assert strip_keep("make it blue and leave the sky as it is") == ("make it blue", "the sky")
    assert strip_keep("keep it unchanged") == ("keep it unchanged", "")


def test_it_is_the_pictures_subject_for_a_colour():
    assert understand("a blue vintage car parked on a city street", "now make it red") == \
        [Recolour(target="blue vintage car", colour="red")]
    assert understand("a blue vintage car parked on a city street", "make it bigger") is None


def test_one_less_one_more_and_a_thing_changed_into_another():
    cats = "two cats sleeping on a red sofa"
    assert understand(cats, "remove one cat") == [Replace(old="two cats", new="one cat")]
    assert understand(cats, "add one more cat") == [Replace(old="two cats", new="three cats")]
    assert understand("a bowl of apples on a counter", "Change the apples to oranges") == \
        [Replace(old="apples", new="oranges")]
    assert understand("a vase with three roses", "change the roses to tulips") == \
        [Replace(old="three roses", new="three tulips")]
    assert understand("a teddy bear on a bench", "replace the teddy bear with a panda") == \
        [Replace(old="a teddy bear", new="a panda")]
    assert understand("a castle under a blue sky", "change the sky to stormy") is None  # a quality: the rules'


def test_a_thing_wanted_too_is_added_not_a_style():
    from chatimg.core.ops import Add

    assert understand("a city skyline at night, photograph", "I'd like a ferry in there too") == [Add(thing="a ferry")]
    assert understand("a city skyline at night", "can we have two boats as well") == [Add(thing="two boats")]


def test_a_new_look_given_replaces_the_old_one():
    portrait = "a portrait of a young woman with short black hair, studio lighting"
    assert understand(portrait, "give her long red hair") == [Replace(old="short black hair", new="long red hair")]
    assert understand("a dog with a blue collar", "give the dog a red collar") == \
        [Replace(old="a blue collar", new="a red collar")]
    assert understand("a golden retriever", "give the dog a red collar") is None  # nothing to replace: an add
