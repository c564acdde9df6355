"""The rewriter's evaluation set and synthetic training data (chatimg.training.rewrite_data)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from chatimg.training import rewrite_data as rd

SPLITS = {"tune", "heldout"}
DOMAINS = {"shape", "general"}


@pytest.fixture(scope="module")
def committed():
    return rd.load_eval()


@pytest.fixture(scope="module")
def rebuilt():
    return rd.build_eval(with_gold=True)


@pytest.fixture(scope="module")
def synthetic():
    return rd.synthetic_examples(600, seed=1)


def _is_check_list(value, allow_lists: bool) -> bool:
    if not isinstance(value, list):
        return False
    for entry in value:
        if isinstance(entry, str):
            if not entry.strip() or entry != " ".join(entry.split()):
                return False
        elif allow_lists and isinstance(entry, list):
            if not entry or not all(isinstance(o, str) and o.strip() for o in entry):
                return False
        else:
            return False
    return True


# -- the matcher -----------------------------------------------------------------------

def test_phrase_matching_rule():
    assert rd.phrase_in("green circle", "A big GREEN   circle on the left")
    assert rd.phrase_in("green circle", "a big green\ncircle")
    assert not rd.phrase_in("red", "a shredded paper")
    assert not rd.phrase_in("cat", "a category")
    assert rd.phrase_in("close-up", "close-up shot")
    assert rd.phrase_in("snow", "a snow-covered hill")
    assert not rd.phrase_in("green circle", "a green big circle")
    item = {"must_contain": ["left", ["night", "nighttime"]], "must_not_contain": ["sunset"]}
    assert rd.passes("a lighthouse on the LEFT at nighttime", item)
    assert not rd.passes("a lighthouse on the left at sunset, night", item)
    assert not rd.passes("a lighthouse on the right at night", item)


# -- the committed files ---------------------------------------------------------------

def test_files_match_generator(committed):
    singles, convs = rd.build_eval()
    hint = "eval files drifted from the generator: run `python -m chatimg.training.rewrite_data` and review the diff"
    assert (rd.EVAL_DIR / "single.jsonl").read_text(encoding="utf-8") == rd.dumps_jsonl(singles), hint
    assert (rd.EVAL_DIR / "conversations.jsonl").read_text(encoding="utf-8") == rd.dumps_jsonl(convs), hint
    assert committed == (json.loads(json.dumps(singles)), json.loads(json.dumps(convs)))


def test_single_items_well_formed(committed):
    singles, _ = committed
    assert len(singles) >= 300
    assert len({i["id"] for i in singles}) == len(singles)
    for item in singles:
        assert list(item) == list(rd.SINGLE_KEYS), item["id"]
        assert item["split"] in SPLITS and item["domain"] in DOMAINS
        assert isinstance(item["message"], str) and item["message"].strip()
        assert _is_check_list(item["must_contain"], True) and item["must_contain"], item["id"]
        assert _is_check_list(item["must_not_contain"], False), item["id"]
        hist = item["history"]
        assert isinstance(hist, list)
        for pair in hist:
            assert isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) and x for x in pair)
        if item["prompt"] is None:
            assert hist == []
        else:
            assert hist and hist[-1][1] == item["prompt"]
            # the change is real: the current prompt fails the checks
            assert not rd.passes(item["prompt"], item), item["id"]


def test_conversations_well_formed(committed):
    _, convs = committed
    assert len(convs) >= 30
    assert len({c["id"] for c in convs}) == len(convs)
    for conv in convs:
        assert list(conv) == ["id", "split", "domain", "turns"]
        assert conv["split"] in SPLITS and conv["domain"] in DOMAINS
        assert 5 <= len(conv["turns"]) <= 10, conv["id"]
        for turn in conv["turns"]:
            assert list(turn) == list(rd.TURN_KEYS)
            assert turn["message"].strip()
            assert _is_check_list(turn["must_contain"], True) and turn["must_contain"]
            assert _is_check_list(turn["must_not_contain"], False)


def test_counts_splits_domains(committed):
    singles, convs = committed
    for items in (singles, convs):
        split = Counter(i["split"] for i in items)
        frac = split["tune"] / len(items)
        assert 0.3 <= frac <= 0.5, split
        by = Counter((i["split"], i["domain"]) for i in items)
        assert all(by[(s, d)] > 0 for s in SPLITS for d in DOMAINS), by
    assert sum(i["domain"] == "general" for i in singles) >= 100
    assert sum(i["domain"] == "shape" for i in singles) >= 150
    assert sum(i["prompt"] is None for i in singles) >= 10
    assert sum(len(i["history"]) >= 2 for i in singles) >= 50


def test_shape_vocabulary_covered(committed):
    singles, convs = committed
    text = " ".join(i["message"] + " " + (i["prompt"] or "") for i in singles).lower()
    for word in ["red", "orange", "yellow", "green", "blue", "purple", "white", "black", "circle", "square",
                 "triangle", "small", "big", "left", "right", "top", "bottom", "center", "background",
                 "again", "back", "undo", "other one", "violet", "centre", "backdrop", "huge", "tiny", "disc"]:
        assert word in text, word


def test_gold_prompts_pass_their_checks(rebuilt):
    singles, convs = rebuilt
    for item in singles:
        failures = rd.check(item["_gold"], item["must_contain"], item["must_not_contain"])
        assert not failures, (item["id"], item["_gold"], failures)
    for conv in convs:
        for turn in conv["turns"]:
            assert rd.passes(turn["_gold"], turn), (conv["id"], turn)


def test_heldout_phrasings_unseen_in_tune(committed):
    singles, convs = committed
    tune = {rd._norm(i["message"]) for i in singles if i["split"] == "tune"}
    tune |= {rd._norm(t["message"]) for c in convs if c["split"] == "tune" for t in c["turns"]}
    held = [i for i in singles if i["split"] == "heldout"]
    held_turns = [t for c in convs if c["split"] == "heldout" for t in c["turns"]]
    # held-out phrasings are their own families: no held-out message is also a tune message
    assert not [i["message"] for i in held + held_turns if rd._norm(i["message"]) in tune]
    # and held-out general items come from scenes tune items never show
    tune_prompts = " ".join(i["prompt"] or "" for i in singles if i["split"] == "tune")
    for scene in rd.GENERAL_SCENES:
        if scene.split == "heldout":
            assert scene.setting not in tune_prompts
    tune_pairs = {(rd._norm(i["message"]), i["prompt"]) for i in singles if i["split"] == "tune"}
    assert not any((rd._norm(i["message"]), i["prompt"]) in tune_pairs for i in held)


# -- synthetic training data -----------------------------------------------------------

def test_synthetic_shape_and_determinism(synthetic):
    assert len(synthetic) == 600
    assert rd.synthetic_examples(50, seed=1) == synthetic[:50]  # deterministic, and n only truncates
    assert rd.synthetic_examples(30, seed=2) == rd.synthetic_examples(30, seed=2)
    assert len({e["id"] for e in synthetic}) == len(synthetic)
    domains = Counter(e["domain"] for e in synthetic)
    assert domains["shape"] > 0 and domains["general"] > 0
    kinds = Counter(e["target"]["kind"] for e in synthetic)
    assert set(kinds) <= set(rd.KINDS)
    assert len(kinds) >= 8, kinds
    for ex in synthetic:
        assert set(ex) == set(rd.SINGLE_KEYS) | {"target"}
        t = ex["target"]
        assert set(t) == {"prompt", "instruction", "region", "kind", "reply"}
        assert t["prompt"] and t["instruction"] and t["region"] and t["reply"]
        if ex["prompt"] is not None:
            assert ex["history"][-1][1] == ex["prompt"]


def test_synthetic_gold_passes_own_checks(synthetic):
    for ex in synthetic:
        assert rd.passes(ex["target"]["prompt"], ex), ex
        if ex["prompt"] is not None:
            assert not rd.passes(ex["prompt"], ex), ex


def test_synthetic_domains():
    assert {e["domain"] for e in rd.synthetic_examples(40, seed=3, domain="shape")} == {"shape"}
    assert {e["domain"] for e in rd.synthetic_examples(40, seed=3, domain="general")} == {"general"}
    with pytest.raises(ValueError):
        rd.synthetic_examples(1, domain="nope")


def test_synthetic_never_contains_heldout(committed, synthetic):
    singles, convs = committed
    held_pairs = {(rd._norm(i["message"]), i["prompt"]) for i in singles if i["split"] == "heldout"}
    held_msgs = {rd._norm(i["message"]) for i in singles if i["split"] == "heldout"}
    held_msgs |= {rd._norm(t["message"]) for c in convs if c["split"] == "heldout" for t in c["turns"]}
    more = rd.synthetic_examples(400, seed=7, domain="general")
    for ex in synthetic + more:
        msg = rd._norm(ex["message"])
        assert (msg, ex["prompt"]) not in held_pairs
        assert msg not in held_msgs
    # no held-out general scene and no held-out-only synonym in training messages
    held_settings = [s.setting for s in rd.GENERAL_SCENES if s.split == "heldout"]
    assert len(set(held_settings)) == len(held_settings)
    for ex in more:
        assert not any(setting in ex["target"]["prompt"] for setting in held_settings), ex["target"]["prompt"]
    for ex in synthetic:
        words = set(rd._norm(ex["message"]).replace("?", " ").replace(",", " ").split())
        assert not (words & rd.HELDOUT_SYNONYMS), ex["message"]


def test_phrases_start_and_end_with_word_characters(committed, synthetic):
    """So a scorer using \\b...\\b and one using (?<!\\w)...(?!\\w) agree."""
    import re

    singles, convs = committed
    word_edged = re.compile(r"^\w(.*\w)?$")
    items = singles + [t for c in convs for t in c["turns"]] + synthetic
    for item in items:
        phrases = [p for m in item["must_contain"] for p in ([m] if isinstance(m, str) else m)]
        phrases += item["must_not_contain"]
        for phrase in phrases:
            assert word_edged.match(phrase), phrase
            assert phrase == phrase.strip() and "  " not in phrase
