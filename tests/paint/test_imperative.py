"""The imperative sentence an instruction-edit model reads, from what an ``Edit`` carries."""

from __future__ import annotations

import pytest

from chatimg.paint.imperative import canvas_instruction, imperative_instruction, is_imperative


@pytest.mark.parametrize(("instruction", "expected"), [
    ("car → blue", "Make the car blue; keep everything else as it is."),
    ("the cat -> a dog", "Turn the cat into a dog; keep everything else as it is."),
    ("added a dog on the left", "Add a dog on the left; keep everything else as it is."),
    ("removed the hat", "Remove the hat; keep everything else as it is."),
    ("make the sky darker", "Make the sky darker; keep everything else as it is."),
    ("Replace the tree with a lamp post.", "Replace the tree with a lamp post; keep everything else as it is."),
    ("Turn it red and keep everything else as it is", "Turn it red and keep everything else as it is."),
])
def test_change_notes_become_commands(instruction, expected):
    assert imperative_instruction(instruction, "a blue car on a street") == expected


def test_without_a_usable_note_the_message_is_used_when_it_is_a_command():
    assert imperative_instruction("not understood", "a red car, at night", "give it a night sky") == \
        "Give it a night sky; keep everything else as it is."


def test_with_nothing_to_go_on_the_picture_is_asked_to_match_the_prompt():
    assert imperative_instruction("new picture", "a red car on a street.", "a red car please") == \
        "Change the picture so that it shows a red car on a street; keep everything else as it is."


def test_a_blank_canvas_is_turned_into_the_described_picture():
    assert canvas_instruction("a red car on a street") == "Turn this blank canvas into a picture of a red car on a street."


def test_is_imperative():
    assert is_imperative("Make it blue") and is_imperative("add a hat")
    assert not is_imperative("a blue car") and not is_imperative("")
