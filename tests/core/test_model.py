"""The session model's own checks: seeds, the turn tree, file names, text and numbers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chatimg.core.model import SEED_MAX, Edit, Session, Settings, Turn, is_plain_name, parse_seed


def turn(index: int, parent: int | None, **extra) -> dict:
    return {"index": index, "parent": parent, "user": f"u{index}", "edit": {"prompt": f"p{index}"},
            "seed": 1, "steps": 4, "guidance": 1.0, **extra}


def test_seeds_are_32_bit_everywhere():
    assert parse_seed("0") == 0 and parse_seed(str(SEED_MAX)) == SEED_MAX == 2**32 - 1
    for bad in ["-1", str(SEED_MAX + 1), "99999999999999999999999", "9" * 5000, "x", "", "1.5"]:
        with pytest.raises(ValueError, match="seed"):
            parse_seed(bad)
    with pytest.raises(ValidationError):
        Settings(seed=SEED_MAX + 1)
    with pytest.raises(ValidationError):
        Turn.model_validate(turn(0, None, seed=10**23))
    assert Turn.model_validate(turn(0, None, seed=SEED_MAX)).seed == SEED_MAX


@pytest.mark.parametrize("turns, head, message", [
    ([turn(0, 0)], 0, "parent 0 is not an earlier turn"),          # a turn its own parent: a cycle
    ([turn(0, 1), turn(1, 0)], 1, "parent 1 is not an earlier turn"),
    ([turn(0, None)], -1, "head -1 is not a turn"),
    ([turn(0, None)], 1, "head 1 is not a turn"),
    ([turn(1, None)], None, "says it is turn 1"),
])
def test_a_broken_tree_is_refused(turns, head, message):
    with pytest.raises(ValidationError, match=message):
        Session.model_validate({"turns": turns, "head": head})


def test_branch_walk_is_bounded_even_when_mutated_into_a_cycle():
    session = Session.model_validate({"turns": [turn(0, None), turn(1, 0)], "head": 1})
    session.turns[0].parent = 1  # only code could do this; the walk still ends
    with pytest.raises(ValueError, match="broken"):
        session.branch()


@pytest.mark.parametrize("name", ["/etc/passwd", "../x.png", ".hidden.png", "a/b.png", "a\\b.png", "", "..",
                                  "nul.png", "x" * 200])
def test_a_turn_image_is_a_plain_name_in_the_folder(name):
    with pytest.raises(ValidationError, match="image"):
        Turn.model_validate(turn(0, None, image=name))


def test_plain_names():
    assert is_plain_name("20261203-105149-3fa9") and is_plain_name("mine") and is_plain_name("a.b_c-d")
    for bad in ["", ".", "..", "a..b", "-x", ".x", "a b", "a/b", "CON", "é"]:
        assert not is_plain_name(bad), bad


def test_text_that_cannot_be_saved_and_numbers_out_of_range_are_refused():
    with pytest.raises(ValidationError):
        Edit(prompt="bad \udcff text")
    with pytest.raises(ValidationError):
        Turn.model_validate(turn(0, None, user="bad \udcff text"))
    with pytest.raises(ValidationError):
        Session(title="bad \udcff")
    with pytest.raises(ValidationError):
        Turn.model_validate(turn(0, None, guidance=float("inf")))
    with pytest.raises(ValidationError):
        Turn.model_validate(turn(0, None, timings={"paint_s": float("nan")}))
    with pytest.raises(ValidationError):
        Edit(prompt="x", strength=float("nan"))


def test_times_without_a_zone_are_utc_so_sessions_sort():
    naive = Session.model_validate({"turns": [], "updated": "2026-01-01T00:00:00"})
    aware = Session.model_validate({"turns": [], "updated": "2026-01-02T00:00:00+05:00"})
    assert sorted([naive.updated, aware.updated])[0] == naive.updated


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                        max_size=4), max_leaves=12)
turn_dicts = st.fixed_dictionaries(
    {"index": st.integers(-2, 6), "parent": st.none() | st.integers(-2, 6), "user": st.text(max_size=5),
     "edit": st.fixed_dictionaries({"prompt": st.text(min_size=1, max_size=5)}),
     "seed": st.integers(-1, 2**33), "steps": st.integers(0, 5), "guidance": st.floats(allow_nan=True)},
    optional={"image": st.none() | st.text(max_size=12) | st.just("turn-000.png"), "mode": json_values})


@settings(max_examples=300, deadline=None)
@given(turns=st.lists(turn_dicts, max_size=6), head=st.none() | st.integers(-3, 8) | json_values)
def test_any_session_that_validates_is_a_tree_whose_walks_end(turns, head):
    try:
        session = Session.model_validate({"turns": turns, "head": head})
    except ValidationError:
        return
    for position, t in enumerate(session.turns):
        assert t.index == position and (t.parent is None or t.parent < position)
        assert 0 <= t.seed <= SEED_MAX
        assert t.image is None or is_plain_name(t.image)
        assert session.branch(position)[-1] is t
    assert len(session.branch()) <= len(session.turns)
    Session.model_validate_json(session.model_dump_json())  # what loads, saves and loads again
