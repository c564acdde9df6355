import pytest

from chatimg.understand.llm.constrained import TokenTrie


def test_the_trie_allows_only_continuations_of_a_candidate_then_the_end():
    trie = TokenTrie([[1, 2, 3], [1, 4], [5]], end=0)
    assert sorted(trie.allowed([])) == [1, 5]
    assert sorted(trie.allowed([1])) == [2, 4]
    assert trie.allowed([1, 4]) == [0]
    assert trie.allowed([9]) == [0]  # off the trie: only the end is left


@pytest.mark.slow
def test_the_built_in_model_always_answers_with_one_of_the_allowed_ops():
    """SmolLM2 without an op adapter: what it picks is weak, but it is always a valid op whose target is
    a thing of the prompt and whose value is words of the request."""
    from chatimg.understand.llm.loading import load_model
    from chatimg.understand.llm.ops import OpReader, candidates

    model, tokenizer, _, _ = load_model("builtin", device="cpu")
    reader = OpReader(model, tokenizer)
    for prompt, message in [("a red vintage car parked on a street", "make the car green"),
                            ("a cabin in the woods, photo", "swap the cabin for a castle"),
                            ("a lighthouse on a cliff", "cool, thanks!")]:
        ops = reader(prompt, message)
        assert ops is not None and len(ops) == 1 and ops[0] in candidates(prompt, message)
