"""Generation constrained to a set of answers: the model writes one of them, token by token.

Every candidate is tokenised into a trie; ``generate`` is given a ``prefix_allowed_tokens_fn`` that
allows only the tokens continuing some candidate (and the end of turn once one is complete). The
answer is therefore always one of the candidates, and the model's own preferences choose which.
"""

from __future__ import annotations

from collections.abc import Sequence


class TokenTrie:
    """Candidate token sequences, looked up by the tokens generated so far."""

    def __init__(self, sequences: Sequence[Sequence[int]], end: int) -> None:
        self.root: dict = {}
        self.end = end
        for seq in sequences:
            node = self.root
            for token in seq:
                node = node.setdefault(token, {})
            node[end] = {}

    def allowed(self, generated: Sequence[int]) -> list[int]:
        node = self.root
        for token in generated:
            node = node.get(token)
            if node is None:
                return [self.end]
        return list(node) or [self.end]


class PrefixCache:
    """The KV cache of a fixed chat opening (system prompt and examples), computed once and copied
    into each call, so only the turn itself is run through the model."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.cache = None

    def for_ids(self, model, ids: list[int], fixed: list[int]):
        import copy

        import torch
        from transformers import DynamicCache

        if not fixed or ids[:len(fixed)] != fixed or len(fixed) >= len(ids):
            return None
        if self.ids != fixed:
            cache = DynamicCache()
            with torch.inference_mode():
                model(input_ids=torch.tensor([fixed], device=model.device), past_key_values=cache, use_cache=True)
            self.ids, self.cache = fixed, cache
        return copy.deepcopy(self.cache)


def choose(model, tokenizer, messages: list[dict], candidates: Sequence[str], *, prefix_cache: PrefixCache | None = None
           ) -> str | None:
    """The candidate the model writes after ``messages`` (greedy), or None when there are none.
    With ``prefix_cache``, everything before the last message is run once and reused."""
    import torch

    if not candidates:
        return None
    end = tokenizer.eos_token_id
    for token in ("<|im_end|>", "<|eot_id|>", "<end_of_turn>"):
        if token in tokenizer.get_vocab():
            end = tokenizer.convert_tokens_to_ids(token)
            break
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    ids = tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"].to(model.device)
    cache = None
    if prefix_cache is not None and len(messages) > 1:
        fixed = tokenizer(tokenizer.apply_chat_template(messages[:-1], tokenize=False), add_special_tokens=False)
        cache = prefix_cache.for_ids(model, ids[0].tolist(), fixed["input_ids"])
    sequences = [tokenizer(c, add_special_tokens=False)["input_ids"] for c in candidates]
    trie = TokenTrie(sequences, end)
    start = ids.shape[1]
    longest = max(len(s) for s in sequences) + 1
    with torch.inference_mode():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=longest, do_sample=False,
                             num_beams=1, eos_token_id=end, pad_token_id=end, past_key_values=cache,
                             prefix_allowed_tokens_fn=lambda _batch, seq: trie.allowed(seq[start:].tolist()))
    answer = out[0, start:].tolist()
    if answer and answer[-1] == end:
        answer = answer[:-1]
    chosen = tokenizer.decode(answer, skip_special_tokens=True)
    return chosen if chosen in candidates else None
