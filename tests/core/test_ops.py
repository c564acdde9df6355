import json

import pytest
from pydantic import ValidationError

from chatimg.core.ops import (
    EDIT_OPS_SCHEMA,
    Add,
    EditOps,
    Recolour,
    Reroll,
    Restart,
    Revert,
    SetAspect,
    Talk,
    describe,
    imperative,
    intent_of,
)


def test_ops_round_trip_through_json_by_their_discriminator():
    ops = [Recolour(target="car", colour="blue"), Add(thing="a hat", where="top"), SetAspect(slot="time", value="night")]
    text = EditOps.dump_json(ops)
    assert EditOps.validate_json(text) == ops
    assert [item["op"] for item in json.loads(text)] == ["recolour", "add", "set_aspect"]


def test_unknown_kinds_and_fields_are_refused():
    with pytest.raises(ValidationError):
        EditOps.validate_python([{"op": "explode", "target": "car"}])
    with pytest.raises(ValidationError):
        EditOps.validate_python([{"op": "recolour", "target": "car", "colour": "red", "extra": 1}])
    with pytest.raises(ValidationError):
        EditOps.validate_python([{"op": "set_aspect", "slot": "flavour", "value": "sweet"}])


def test_the_schema_names_every_kind_for_an_llm():
    kinds = {entry["properties"]["op"]["const"] for entry in EDIT_OPS_SCHEMA["$defs"].values()}
    assert {"recolour", "resize", "move", "swap", "add", "remove", "replace", "set_background", "set_aspect",
            "restart", "revert", "reroll", "talk"} == kinds


@pytest.mark.parametrize(("ops", "intent"), [
    ([], "keep"), ([Talk(reply="You're welcome!")], "keep"), ([Reroll()], "reroll"),
    ([Revert(description="the blue one")], "restore"), ([Restart(description="a cat")], "restart"),
    ([Recolour(target="car", colour="blue")], "paint"),
])
def test_the_intent_follows_from_the_ops(ops, intent):
    assert intent_of(ops) == intent


def test_an_instruction_is_one_imperative_sentence_that_keeps_the_rest():
    assert imperative([Recolour(target="a car", colour="blue")]) == "Make the car blue; keep everything else as it is."
    assert imperative([Add(thing="a small blue square", where="top")]) == \
        "Add a small blue square on the top; keep everything else as it is."
    assert imperative([Talk()]) == "Keep the picture as it is."
    assert describe([Recolour(target="car", colour="blue"), Add(thing="a hat")]) == "recolour car → blue; add a hat"
