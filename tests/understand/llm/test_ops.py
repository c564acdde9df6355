from chatimg.core.ops import Add, Recolour, Remove, Replace, SetAspect, Talk
from chatimg.understand.llm.ops import candidates, messages, things, values


def test_targets_come_from_the_prompt_and_values_from_the_request():
    assert things("a red vintage car parked on a street, photo") == ["red vintage car", "car", "street", "photo"]
    assert "hat" in values("put a hat on the dog") and "the dog" not in values("put a hat on the dog")
    options = candidates("a red car on a street", "make the car green")
    assert Recolour(target="car", colour="green") in options and Talk() in options
    assert not any(isinstance(op, Recolour) and op.colour == "car" for op in options)  # only colours recolour
    assert Replace(old="car", new="green") in options and Add(thing="green") in options
    assert [op for op in options if isinstance(op, Remove)] == [Remove(target="red car"), Remove(target="car")]
    assert any(op == SetAspect(slot="weather", value="green") for op in options)


def test_the_model_is_shown_worked_examples_as_op_json():
    chat = messages("a red car", "make it blue")
    assert chat[0]["role"] == "system" and chat[-1]["content"] == "Prompt: a red car\nRequest: make it blue"
    assert chat[2]["content"] == '{"op":"recolour","target":"car","colour":"blue"}'
