"""Rewriter: output parsing and repair, rules, fallbacks, and loading a (tiny) real model."""

from __future__ import annotations

import pytest

from chatimg.core.model import Edit
from chatimg.understand.llm.output import clamp_strength, clean_prompt, clean_region, make_edit, parse_output
from chatimg.understand.llm.rewriter import LLMRewriter

CABIN = "a cozy cabin in a snowy forest at sunset, oil painting"
SHAPES = "a big red circle on the left and a small blue square on the right, on a green background"


# ------------------------------------------------------------------------------ parsing
@pytest.mark.parametrize("raw, expected, repaired", [
    ("a cabin at night, oil painting", "a cabin at night, oil painting", False),
    ("New prompt: a cabin at night", "a cabin at night", True),
    ('"a cabin at night"', "a cabin at night", True),
    ("Sure! Here is the new prompt:\na cabin at night", "a cabin at night", True),
    ("a cabin at night<|im_end|>garbage", "a cabin at night", True),
    ("a cabin, a cabin, a cabin, at night", "a cabin, at night", True),
    ("a cabin at night\nRequest: make it day", "a cabin at night", True),
    ("a cabin at night Current prompt: x", "a cabin at night", True),
])
def test_clean_prompt_repairs_common_slips(raw, expected, repaired):
    prompt, was_repaired = clean_prompt(raw)
    assert prompt == expected
    assert was_repaired is repaired


@pytest.mark.parametrize("raw", ["", "   ", "\n\n", "!!!", "Sorry, I can't help with that.", "<|im_end|>"])
def test_clean_prompt_rejects_unusable_text(raw):
    assert clean_prompt(raw)[0] is None


def test_parse_output_reads_json_and_broken_json():
    parsed = parse_output('{"prompt": "a cat at night", "strength": 0.7, "reply": "Night it is."}')
    assert parsed.prompt == "a cat at night" and parsed.fields["strength"] == 0.7 and not parsed.repaired
    broken = parse_output('Here you go: {"prompt": "a cat at night", "strength": 0.7')
    assert broken.prompt == "a cat at night" and broken.repaired


def test_overlong_prompt_is_cut_at_a_phrase_boundary():
    prompt, repaired = clean_prompt(", ".join(f"detail number {i}" for i in range(100)))
    assert repaired and len(prompt) <= 400 and not prompt.endswith(",")


@pytest.mark.parametrize("value, expected", [(0.7, 0.7), ("0.3", 0.3), (70, 0.7), (5.0, 1.0), (-1, 0.05),
                                             ("high", 0.85), ("nonsense", 0.6), (None, 0.6), (float("nan"), 0.6)])
def test_strength_is_always_in_range(value, expected):
    assert clamp_strength(value, 0.6)[0] == pytest.approx(expected)


def test_region_is_named_region_or_object_in_prompt():
    assert clean_region("Middle", "a cat")[0] == "center"
    assert clean_region("cat", "a cat on a sofa")[0] == "cat"
    assert clean_region("spaceship", "a cat on a sofa") == ("whole", True)
    edit, repaired = make_edit(prompt="a cat", strength=3, region=42)
    assert isinstance(edit, Edit) and edit.strength == 1.0 and edit.region == "whole" and repaired


# ---------------------------------------------------------------------- rewriter logic
def fake(answer):
    calls = []

    def generate(messages):
        calls.append(messages)
        if isinstance(answer, Exception):
            raise answer
        return answer

    generate.calls = calls
    return generate


def test_rules_first_answers_known_requests_without_the_llm():
    gen = fake("should not be used")
    rewriter = LLMRewriter(gen, mode="rules-first")
    edit = rewriter.rewrite("make it night", prompt=CABIN, history=[])
    assert edit.prompt == "a cozy cabin in a snowy forest at night, oil painting"
    assert not gen.calls and rewriter.last.source == "rules"
    assert 0.05 <= edit.strength <= 1.0 and edit.reply


def test_first_turn_makes_a_txt2img_prompt():
    edit = LLMRewriter(fake("x"), mode="rules-first").rewrite("can you draw me a fox in the snow please", prompt=None, history=[])
    assert edit.prompt == "a fox in the snow" and edit.strength == 1.0


def test_remove_drops_the_object_and_sets_negative_prompt():
    edit = LLMRewriter(None, mode="rules-first").rewrite(
        "get rid of the hat", prompt="a woman with a red hat on a city street, photo", history=[])
    assert "hat" not in edit.prompt and "woman" in edit.prompt and "street" in edit.prompt
    assert "hat" in edit.negative_prompt


def test_shape_world_edit_keeps_untouched_attributes():
    rewriter = LLMRewriter(None, mode="rules-first")
    edit = rewriter.rewrite("make the square yellow and move it to the left", prompt=SHAPES, history=[])
    assert edit.prompt == ("a small yellow square on the left and a big red circle on the right, "
                           "on a green background")
    assert rewriter.last.source == "shape"


def test_llm_first_keeps_a_good_llm_answer():
    answer = "a cozy cabin in a snowy forest at night, moonlight, oil painting"
    rewriter = LLMRewriter(fake(answer), mode="llm-first")
    edit = rewriter.rewrite("make it night", prompt=CABIN, history=[])
    assert edit.prompt == answer and rewriter.last.source == "llm" and rewriter.last.parsed_clean


def test_llm_first_repairs_an_answer_that_loses_the_scene():
    rewriter = LLMRewriter(fake("a night sky"), mode="llm-first")
    edit = rewriter.rewrite("make it night", prompt=CABIN, history=[])
    assert edit.prompt == "a cozy cabin in a snowy forest at night, oil painting"
    assert rewriter.last.source == "rules"


def test_llm_first_shape_world_answer_must_match_the_scene():
    wrong = "a big blue circle on the left and a big blue square on the right, on a green background"
    rewriter = LLMRewriter(fake(wrong), mode="llm-first")
    edit = rewriter.rewrite("make the circle blue", prompt=SHAPES, history=[])
    assert edit.prompt == "a big blue circle on the left and a small blue square on the right, on a green background"


@pytest.mark.parametrize("answer", ["", "Sorry, I cannot do that.", "???", RuntimeError("model exploded")])
def test_unusable_llm_output_keeps_the_prompt_and_says_so(answer):
    rewriter = LLMRewriter(fake(answer), mode="llm-first")
    edit = rewriter.rewrite("frobnicate the quux thoroughly", prompt=CABIN, history=[])
    assert edit.prompt == CABIN
    assert "understand" in edit.reply.lower()
    assert not rewriter.last.usable


def test_llm_answer_for_unknown_request_is_sanity_checked():
    good = "a cozy cabin in a snowy forest at sunset, a huge wave crashing, oil painting"
    rewriter = LLMRewriter(fake(good), mode="rules-first")
    edit = rewriter.rewrite("frobnicate a huge wave crashing nearby", prompt=CABIN, history=[])
    assert rewriter.last.llm_ran
    assert edit.prompt in (good, CABIN + ", a huge wave crashing nearby") or "wave" in edit.prompt
    # an answer that throws away the scene is refused
    rewriter = LLMRewriter(fake("a wave"), mode="llm-only")
    assert rewriter.rewrite("something with a wave", prompt=CABIN, history=[]).prompt == CABIN


def test_empty_message_never_crashes():
    rewriter = LLMRewriter(fake("x"), mode="rules-first")
    assert rewriter.rewrite("   ", prompt=None, history=[]).prompt
    assert rewriter.rewrite("", prompt=CABIN, history=[]).prompt == CABIN


# ------------------------------------------------------------ a tiny real transformers model
@pytest.fixture(scope="module")
def tiny_llm_dir(tmp_path_factory):
    """A 2-layer random Llama + a small BPE tokenizer with a ChatML template, saved like a user's model."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-llm")
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    specials = ["<unk>", "<|im_start|>", "<|im_end|>"]
    corpus = [CABIN, SHAPES, "make it night", "add a boat", "remove the hat", "system user assistant",
              "Current prompt: Change: none this is the first image"] * 5
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=300, special_tokens=specials,
                                                         initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    from tokenizers import decoders
    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<|im_end|>",
                                   bos_token="<|im_start|>", pad_token="<|im_end|>")
    fast.chat_template = ("{% for m in messages %}{{'<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>' + '\n'}}"
                          "{% endfor %}{% if add_generation_prompt %}{{'<|im_start|>assistant\n'}}{% endif %}")
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                         eos_token_id=fast.eos_token_id, bos_token_id=fast.bos_token_id, tie_word_embeddings=True)
    LlamaForCausalLM(config).save_pretrained(folder, safe_serialization=True)
    return folder


def test_load_rewriter_from_a_local_folder(tiny_llm_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("CHATIMG_CACHE", str(tmp_path / "cache"))
    from chatimg.understand.rewriter import load_rewriter

    messages = []
    rewriter = load_rewriter(str(tiny_llm_dir), device="cpu", progress=messages.append)
    assert rewriter.mode == "llm-first" and rewriter.name == tiny_llm_dir.name
    assert any("loading" in m for m in messages)
    # random weights write nonsense: the rules' answer or a safe fallback, never a crash
    edit = rewriter.rewrite("make it night", prompt=CABIN, history=[])
    assert edit.prompt == "a cozy cabin in a snowy forest at night, oil painting"
    edit = rewriter.rewrite("frobnicate the quux", prompt=CABIN, history=[])
    assert edit.prompt == CABIN or edit.prompt
    assert rewriter.last.llm_ran
    first = rewriter.rewrite("a dog in the rain", prompt=None, history=[])
    assert "dog" in first.prompt


def test_generator_reuses_the_prefix_cache_and_stops(tiny_llm_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from chatimg.understand.llm.rewriter import PromptTemplates, TransformersGenerator

    model = AutoModelForCausalLM.from_pretrained(tiny_llm_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_llm_dir)
    gen = TransformersGenerator(model, tokenizer, max_new_tokens=12)
    templates = PromptTemplates.load()
    one = gen(templates.messages("make it night", CABIN))
    prefix_len = len(gen._prefix_ids)
    assert prefix_len > 0 and gen._prefix_cache.get_seq_length() == prefix_len
    two = gen(templates.messages("make it night", CABIN))
    assert one == two  # greedy and the cache was restored to the prefix
    assert gen._prefix_cache.get_seq_length() == prefix_len
    # the same answer as plain greedy decoding without cache tricks
    ids = tokenizer.apply_chat_template(templates.messages("make it night", CABIN), add_generation_prompt=True,
                                        return_tensors="pt", return_dict=True)
    out = model.generate(**ids, max_new_tokens=12, do_sample=False, eos_token_id=gen.stop_ids and sorted(gen.stop_ids))
    plain = tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    assert plain.split("\n")[0].startswith(one.split("\n")[0][: len(plain.split("\n")[0])]) or one.startswith(plain.split("\n")[0])


def test_resolve_spec_kinds(tmp_path):
    from chatimg.understand.llm.loading import resolve_spec

    assert resolve_spec("builtin").kind == "gguf"
    assert resolve_spec(str(tmp_path)).kind == "folder"
    assert resolve_spec("Qwen/Qwen2.5-1.5B-Instruct").kind == "hub"
    with pytest.raises(FileNotFoundError):
        resolve_spec(str(tmp_path / "missing.gguf"))
    with pytest.raises(FileNotFoundError):
        resolve_spec("no such thing")


# ------------------------------------------------------------------- the built-in model
@pytest.mark.slow
def test_builtin_loads_from_cache_quickly_and_rewrites(tmp_path_factory):
    import time

    from chatimg.understand.rewriter import load_rewriter

    load_rewriter("builtin")  # converts on a fresh cache
    start = time.perf_counter()
    rewriter = load_rewriter("builtin")
    assert time.perf_counter() - start <= 8.0  # ~4 s measured; slack for a busy shared CPU
    assert rewriter.mode == "rules-first"
    edit = rewriter.rewrite("make the circle blue", prompt=SHAPES, history=[])
    assert edit.prompt.startswith("a big blue circle on the left")
    edit = rewriter.rewrite("frobnicate a huge wave crashing nearby", prompt=CABIN, history=[])
    assert rewriter.last.llm_ran and edit.prompt and edit.reply
    assert "cabin" in edit.prompt  # a sane answer or the unchanged prompt, never junk


@pytest.mark.slow
def test_builtin_benchmark_bars_on_a_slice():
    """A slice of the held-out set through the real built-in model (the full run is in docs/rewriter.md)."""
    from chatimg.bench.rewriter import load_items, run_benchmark
    from chatimg.understand.rewriter import load_rewriter

    singles, conversations = load_items("heldout")
    if not singles:
        pytest.skip("no evaluation set")
    rewriter = load_rewriter("builtin")
    report = run_benchmark(rewriter, singles[::4], conversations[:3])
    summary = report.summary()
    assert summary["accuracy"]["shape"] >= 0.85
    assert summary["accuracy"]["general"] >= 0.65
    assert summary["usable_share"] >= 0.9
    assert summary["median_seconds"] <= 1.0


def test_lora_adapter_is_merged_once_and_cached(tiny_llm_dir, tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from chatimg.understand.llm.loading import merged_cache

    base = AutoModelForCausalLM.from_pretrained(tiny_llm_dir)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    adapter = tmp_path / "adapter"
    get_peft_model(base, config).save_pretrained(adapter)
    local_base = tmp_path / "base"
    AutoModelForCausalLM.from_pretrained(tiny_llm_dir).save_pretrained(local_base)
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(tiny_llm_dir).save_pretrained(local_base)
    merged = merged_cache(local_base, adapter)
    assert (merged / "model.safetensors").is_file() and merged_cache(local_base, adapter) == merged
    plain = AutoModelForCausalLM.from_pretrained(local_base).eval()
    tuned = AutoModelForCausalLM.from_pretrained(merged).eval()
    ids = torch.tensor([[1, 5, 9, 12]])
    with torch.no_grad():
        assert not torch.allclose(plain(ids).logits, tuned(ids).logits)  # the adapter changed the weights


# ------------------------------------------------------------ LLM answers: validated and repaired
def test_llm_answer_that_drops_part_of_the_scene_is_grafted_back():
    # the model changed the right thing but lost "morning light": keep the scene, take the new phrase
    prompt = "a red fox sitting in a meadow, morning light, watercolor painting"
    rewriter = LLMRewriter(fake("a fox, a glowing aurora"), mode="rules-first")
    edit = rewriter.rewrite("frobnicate a glowing aurora", prompt=prompt, history=[])
    assert edit.prompt == "a red fox sitting in a meadow, morning light, a glowing aurora, watercolor painting"
    assert rewriter.last.source == "llm" and rewriter.last.usable and not rewriter.last.parsed_clean


def test_shape_world_llm_answer_is_accepted_only_with_values_from_the_request():
    from chatimg.shapeworld.edits import validated_llm_scene

    good = "a big red circle on the left and a small purple square on the right, on a green background"
    assert validated_llm_scene(SHAPES, good, "something purple for the square please") == good
    assert validated_llm_scene(SHAPES, good.replace("purple", "yellow"), "something purple please") is None
    assert validated_llm_scene(SHAPES, "a small purple square, on a green background", "purple square") is None  # lost a shape
    assert validated_llm_scene(SHAPES, SHAPES, "purple") is None  # nothing changed


def test_a_no_op_shape_answer_lets_the_llm_try_first():
    one = "a small yellow triangle in the center, on a black background"
    bigger = "a big yellow triangle in the center, on a black background"
    rewriter = LLMRewriter(fake(bigger), mode="rules-first")
    edit = rewriter.rewrite("center the triangle and make it big", prompt=one, history=[])
    assert edit.prompt == bigger  # the editor understood it too; the LLM is not needed
    rewriter = LLMRewriter(fake("a big yellow triangle in the center, on a black background, sparkles"), mode="rules-first")
    edit = rewriter.rewrite("center the triangle", prompt=one, history=[])
    assert edit.prompt == one and rewriter.last.source == "shape"  # the model's extra words come from nowhere


def test_small_talk_does_not_call_the_llm():
    rewriter = LLMRewriter(fake("a cozy cabin, a thank you note"), mode="rules-first")
    edit = rewriter.rewrite("thanks!", prompt=CABIN, history=[])
    assert edit.prompt == CABIN and rewriter.last.source == "chat" and rewriter.last.usable and not rewriter.last.llm_ran


@pytest.mark.parametrize("prompt, message, region", [
    # the centre shape is moved to the left to make room: cut and pasted there, then the new one painted
    ("a big red circle in the center, on a blue background", "add a triangle", "center->left, right"),
    ("a red circle", "add a green square", "center->left, right"),  # unplaced shape moved aside as well
    ("a big red circle on the left, on a blue background", "add a triangle", "right"),  # nothing moved
    ("a big red circle on the left, on a blue background", "make it green", "left"),
    (SHAPES, "remove the square", "right"),
    (SHAPES, "move the square to the right", "whole"),  # already there: nothing to paint
    # a size the prompt did not say, now said: the painter drew some size, so repaint that shape
    ("a black square in the center, on a purple background", "make the black square big", "center"),
    (SHAPES, "move the square to the left", "left->right, right->left"),  # the circle trades places: a swap
    ("a big red circle on the left, on a blue background", "move it to the top", "left->top"),  # a cut and paste
])
def test_shape_edit_region_covers_everything_that_changed(prompt, message, region):
    edit = LLMRewriter(None, mode="rules-first").rewrite(message, prompt=prompt, history=[])
    assert edit.region == region


def test_adding_beside_the_centre_shape_moves_it_then_paints_the_new_one():
    from chatimg.shapeworld import edit_region, parse_prompt

    prompt = "a big red circle in the center, on a blue background"
    edit = LLMRewriter(None, mode="rules-first").rewrite("add a triangle", prompt=prompt, history=[])
    before, after = parse_prompt(prompt), parse_prompt(edit.prompt)
    assert after.shape_at("left").shape == "circle" and after.shape_at("right").shape == "triangle"
    assert edit.region == edit_region(before, after) == "center->left, right"


def test_shape_world_llm_answer_gets_the_region_of_its_change():
    one = "a big red circle on the left, on a blue background"
    rewriter = LLMRewriter(fake("a big purple circle on the left, on a blue background"), mode="llm-first")
    edit = rewriter.rewrite("make the disc purple", prompt=one, history=[])
    assert rewriter.last.source == "llm" and edit.region == "left"


def test_long_replies_end_in_one_ellipsis_at_a_word_boundary():
    from chatimg.understand.llm.output import end_sentence, shorten
    from chatimg.understand.llm.rewriter import _sentence

    edit = LLMRewriter(None, mode="rules-first").rewrite(
        "a small yellow triangle at the top and a big blue circle at the bottom, on a purple background",
        prompt=None, history=[])
    assert edit.reply == "Painting a small yellow triangle at the top and a big blue circle…"
    assert shorten("a red fox sitting in a meadow", 12) == "a red fox…"  # no "a red fox si…"
    assert shorten("a red fox and a hare", 15) == "a red fox…"  # no dangling "and a"
    assert shorten("short", 12) == "short" and end_sentence("short") == "short."
    assert end_sentence("cut here….") == "cut here…"
    long = _sentence("; ".join(f"circle colour → colour{i}" for i in range(20)))
    assert long.endswith("…") and not long.endswith("….") and len(long) <= 152


def test_a_prompt_typed_in_full_is_read_against_the_last_one():
    """--no-llm and /prompt: the shape-world change gets its own region and op, not a whole-image repaint."""
    from chatimg.core.ops import Recolour, Restart
    from chatimg.understand.rewriter import DirectRewriter

    before = "a big red circle on the left and a small blue square on the right, on a green background"
    after = before.replace("red circle", "yellow circle")
    edit = DirectRewriter().rewrite(after, prompt=before)
    assert edit.ops == [Recolour(target="red circle", colour="yellow")] and edit.region == "left"
    assert (edit.source, edit.intent) == ("direct", "paint") and edit.instruction.startswith("Make the red circle yellow")
    first = DirectRewriter().rewrite(before, prompt=None)
    assert first.ops == [Restart(description=before)] and first.intent == "restart"
    assert DirectRewriter(strength=0.3).rewrite(after, prompt=before).strength == 0.3


def test_another_script_is_left_to_a_model_that_knows_it():
    """'車を青くして' ('make the car blue'): the English rules never answer it; the built-in model says
    it reads English only, and any other model's answer is taken on its own."""
    from chatimg.understand.llm.rewriter import LLMRewriter

    prompt = "a red car parked on a street"
    builtin = LLMRewriter(lambda messages: "a blue car parked on a street", mode="rules-first")
    builtin.english_only = True
    kept = builtin.rewrite("車を青くして", prompt=prompt, history=[(prompt, prompt)])
    assert kept.intent == "keep" and kept.prompt == prompt and "English only" in kept.reply
    capable = LLMRewriter(lambda messages: "a blue car parked on a street", mode="llm-first")
    edit = capable.rewrite("車を青くして", prompt=prompt, history=[(prompt, prompt)])
    assert edit.prompt == "a blue car parked on a street" and edit.source == "llm" and edit.intent == "paint"


def test_what_the_rules_do_not_know_the_model_reads_as_an_op():
    from chatimg.core.ops import Remove, SetAspect
    from chatimg.understand.llm.rewriter import LLMRewriter

    prompt = "a teddy bear holding a glove, on a bed, a lamp on the left"
    rewriter = LLMRewriter(None, mode="rules-first")
    rewriter.read_ops = lambda p, m: [Remove(target="lamp")]
    edit = rewriter.rewrite("yeet the lamp outta here", prompt=prompt, history=[(prompt, prompt)])
    assert edit.prompt == "a teddy bear holding a glove, on a bed" and edit.source == "llm"
    assert edit.ops == [Remove(target="lamp")] and edit.instruction.startswith("Remove the lamp")
    rewriter.read_ops = lambda p, m: [SetAspect(slot="time", value="yeet")]  # not a time: not taken
    assert rewriter.rewrite("yeet the lamp outta here", prompt=prompt, history=[(prompt, prompt)]).source != "llm"
