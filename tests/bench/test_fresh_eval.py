"""The hand-written "fresh" rewriter evaluation set (chatimg/bench/data/rewriter_eval/fresh_*.jsonl).

Written independently of chatimg.training.rewrite_data's templates and of the rules, in the same item
format, so the same scorer scores it (``chatimg bench rewriter --set fresh``). Shape-world items
and turns carry ``_scene``: the canonical prompt of the scene the edit should produce (for a
creation message that leaves attributes open, one scene that satisfies the checks).
"""

from __future__ import annotations

from collections import Counter

import pytest

from chatimg.bench.rewriter import EVAL_SETS, load_items
from chatimg.shapeworld.captions import canonical_prompt
from chatimg.shapeworld.parse import parse_prompt
from chatimg.training import rewrite_data as rd

#: Messages anyone would type; the only ones allowed to coincide with a generated message.
#: Short, common requests that the generator's templates can also produce word for word (the
#: others turned up when the generated set was rewritten on 2026-11-26): the fresh set was
#: written without it, so such overlaps are coincidence, not copying.
GENERIC_MESSAGES = {"undo", "undo that", "make it nighttime", "make it a close-up shot", "black background",
                    "get rid of the circle", "make it a watercolor"}


@pytest.fixture(scope="module")
def fresh():
    return load_items("fresh", eval_set="fresh")


def _well_formed_checks(must: list, banned: list) -> bool:
    def phrase(p) -> bool:
        return isinstance(p, str) and p.strip() == p and " ".join(p.split()) == p and bool(p)

    return (isinstance(must, list) and isinstance(banned, list) and all(phrase(b) for b in banned)
            and all(phrase(m) or (isinstance(m, list) and m and all(phrase(o) for o in m)) for m in must))


def _scene_of(text: str):
    scene = parse_prompt(text)
    assert scene is not None, f"does not parse as a shape-world scene: {text!r}"
    return scene


def _check_expected(checks: dict, expected: str, before: str | None, where: str) -> None:
    """The expected scene is canonical and passes the checks; the scene before fails them."""
    scene = _scene_of(expected)
    assert canonical_prompt(scene) == expected, where
    must, banned = checks["must_contain"], checks["must_not_contain"]
    assert not rd.check(expected, must, banned), (where, rd.check(expected, must, banned))
    if before is not None:
        assert rd.check(canonical_prompt(_scene_of(before)), must, banned), f"{where}: the edit changes nothing"


def test_loads_with_required_counts(fresh):
    singles, conversations = fresh
    domains = Counter(item["domain"] for item in singles)
    assert len(singles) >= 150 and domains["shape"] >= 100 and domains["general"] >= 50, domains
    assert len(conversations) >= 12
    assert all(5 <= len(conv["turns"]) <= 10 for conv in conversations)
    assert {conv["domain"] for conv in conversations} == {"shape", "general"}
    ids = [item["id"] for item in singles] + [conv["id"] for conv in conversations]
    assert len(set(ids)) == len(ids)


def test_items_use_the_generated_sets_format(fresh):
    singles, conversations = fresh
    for item in singles:
        assert list(item)[:len(rd.SINGLE_KEYS)] == list(rd.SINGLE_KEYS), item["id"]
        assert set(item) - set(rd.SINGLE_KEYS) <= {"_scene"}, item["id"]
        assert item["split"] == "fresh" and item["domain"] in {"shape", "general"}
        assert isinstance(item["message"], str) and item["message"].strip()
        assert _well_formed_checks(item["must_contain"], item["must_not_contain"]) and item["must_contain"], item["id"]
        history = item["history"]
        assert all(isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h) for h in history)
        assert item["prompt"] == (history[-1][1] if history else None), item["id"]
    for conv in conversations:
        assert conv["split"] == "fresh" and set(conv) == {"id", "split", "domain", "turns"}
        for turn in conv["turns"]:
            assert set(turn) - set(rd.TURN_KEYS) <= {"_scene"} and set(rd.TURN_KEYS) <= set(turn), conv["id"]
            assert _well_formed_checks(turn["must_contain"], turn["must_not_contain"]) and turn["must_contain"]


def test_shape_items_are_consistent_with_parse_prompt(fresh):
    singles, _ = fresh
    shape = [item for item in singles if item["domain"] == "shape"]
    for item in shape:
        for _, prompt in item["history"]:
            _scene_of(prompt)
        _check_expected(item, item["_scene"], item["prompt"], item["id"])
    # every kind of edit is there, and so is every attribute value
    words = " ".join(item["_scene"] for item in shape)
    for word in ("left", "right", "top", "bottom", "center", "small", "big", "circle", "square", "triangle",
                 "red", "orange", "yellow", "green", "blue", "purple", "white", "black"):
        assert rd.phrase_in(word, words), word
    assert sum(item["prompt"] is None for item in shape) >= 5
    assert sum(len(item["history"]) >= 2 for item in shape) >= 8  # references to earlier turns


def test_shape_conversations_are_consistent_with_parse_prompt(fresh):
    _, conversations = fresh
    for conv in (c for c in conversations if c["domain"] == "shape"):
        before = None
        for k, turn in enumerate(conv["turns"]):
            _check_expected(turn, turn["_scene"], before, f"{conv['id']}#{k}")
            before = turn["_scene"]


def test_general_edits_are_visible_in_the_checks(fresh):
    singles, _ = fresh
    for item in singles:
        if item["domain"] == "general" and item["prompt"] is not None:
            assert rd.check(item["prompt"], item["must_contain"], item["must_not_contain"]), item["id"]


def test_phrasings_are_not_the_generators(fresh):
    singles, conversations = fresh
    generated = load_items("all")
    seen = {i["message"].lower() for i in generated[0]} | {
        t["message"].lower() for c in generated[1] for t in c["turns"]}
    messages = [i["message"] for i in singles] + [t["message"] for c in conversations for t in c["turns"]]
    assert not [m for m in messages if m.lower() in seen and m.lower() not in GENERIC_MESSAGES]


def test_load_items_selects_a_set():
    assert set(EVAL_SETS) == {"generated", "fresh"}
    assert load_items("heldout") == load_items("heldout", eval_set="generated")
    assert load_items("heldout", eval_set="fresh") == ([], [])
    with pytest.raises(ValueError):
        load_items("all", eval_set="nope")


def test_bench_command_runs_the_fresh_set():
    import json

    from click.testing import CliRunner

    from chatimg.bench.rewriter import rewriter_command

    result = CliRunner().invoke(rewriter_command, ["--set", "fresh", "--llm", "none", "--limit", "2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["split"] == "fresh" and summary["turns"] > 2
