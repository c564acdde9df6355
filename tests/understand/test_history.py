from chatimg.understand.history import described_turn

CARS = [("a vintage car", "a vintage car"), ("make the car blue", "a blue vintage car"),
        ("now make it red", "a red vintage car")]


def test_go_back_finds_the_newest_picture_that_showed_it():
    for message in ("go back to the blue one", "ok, I liked the blue one better", "the blue one was better"):
        back = described_turn(message, "a red vintage car", CARS)
        assert back.prompt == "a blue vintage car" and back.whole


def test_it_better_with_a_detail_names_that_detail():
    history = [("a cabin", "a cabin in the woods, at night"), ("make it daytime", "a cabin in the woods, during the day")]
    back = described_turn("i liked it better at night", "a cabin in the woods, during the day", history)
    assert back.prompt == "a cabin in the woods, at night" and back.phrase == "at night" and not back.whole


def test_nothing_to_go_back_to_is_left_to_the_other_understanders():
    assert described_turn("go back to the green one", "a red vintage car", CARS) is None
    assert described_turn("go back to the red one", "a red vintage car", CARS) is None  # it is red now
    assert described_turn("make it blue", "a red vintage car", CARS) is None
    assert described_turn("go back to the previous one", "a red vintage car", CARS) is None


def test_a_thing_asked_back_returns_as_it_was_in_its_place():
    from chatimg.understand.history import returned_thing

    history = [("a storefront", "a storefront on a quiet street with a blue bicycle, watercolor"),
               ("remove the bicycle", "a storefront on a quiet street, watercolor"),
               ("make it cozy", "a storefront on a quiet street, cozy, watercolor")]
    now = "a storefront on a quiet street, cozy, watercolor"
    assert returned_thing("actually, I want the bicycle again", now, history) == \
        "a storefront on a quiet street with a blue bicycle, cozy, watercolor"
    assert returned_thing("re-add the bicycle", history[0][1], history[:1]) == history[0][1]  # there already
    assert returned_thing("bring back the dragon", now, history) is None
    assert returned_thing("make it blue", now, history) is None
