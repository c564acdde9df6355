from chatimg.core.ops import Add, Remove, Replace, Restart
from chatimg.understand.diff import ops_between


def test_a_changed_phrase_is_a_replace_of_the_thing_not_its_whole_clause():
    assert ops_between("a golden retriever sitting on a porch, sunny day",
                       "a golden tabby cat sitting on a porch, at night") == [
        Replace(old="a golden retriever", new="a golden tabby cat"), Replace(old="sunny day", new="at night")]


def test_new_and_dropped_phrases_are_adds_and_removes():
    assert ops_between("a dog, on a porch", "a dog, on a porch, at night") == [Add(thing="at night")]
    assert ops_between("a dog, on a porch, at night", "a dog, on a porch") == [Remove(target="at night")]


def test_the_same_prompt_changes_nothing_and_a_new_one_restarts():
    assert ops_between("a dog, on a porch", "A dog,  on a porch") == []
    assert ops_between("a dog on a porch, at night", "a bowl of ramen") == [Restart(description="a bowl of ramen")]
