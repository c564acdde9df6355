"""``chatimg bench rewriter``: score a rewriter on the evaluation set in chatimg/bench/data/rewriter_eval.

A turn is right when every check passes on the new prompt: each ``must_contain`` entry (a
phrase, or a list of alternative phrases) appears, and no ``must_not_contain`` phrase does.
Matching is case-insensitive, on whole words/phrases, after collapsing whitespace.
Conversations start from no image and feed the rewriter its own previous prompts.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from chatimg.locations import evals_dir


def eval_dir() -> Path:
    return evals_dir()


# ------------------------------------------------------------------------------ scoring
# One matcher for the data, its tests and this benchmark: chatimg.training.rewrite_data's.
from chatimg.training.rewrite_data import check as failed_checks  # noqa: E402
from chatimg.training.rewrite_data import phrase_in  # noqa: E402,F401 - part of this module's scoring API

#: Evaluation sets in chatimg/bench/data/rewriter_eval: file-name prefix of each. "generated" is written by
#: chatimg.training.rewrite_data (splits tune / heldout); "fresh" is hand-written, independently of the
#: generator's phrasings and of the rules (every item has split "fresh").
EVAL_SETS = {"generated": "", "fresh": "fresh_"}


def load_items(split: str = "heldout", folder: Path | None = None,
               eval_set: str = "generated") -> tuple[list[dict], list[dict]]:
    """Single items and conversations of ``eval_set`` whose split is ``split`` (or ``"all"``)."""
    if eval_set not in EVAL_SETS:
        raise ValueError(f"unknown evaluation set {eval_set!r}; expected one of {sorted(EVAL_SETS)}")
    folder = Path(folder) if folder else eval_dir()
    prefix = EVAL_SETS[eval_set]

    def read(name: str) -> list[dict]:
        path = folder / name
        if not path.is_file():
            return []
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [r for r in rows if split == "all" or r.get("split") == split]

    return read(prefix + "single.jsonl"), read(prefix + "conversations.jsonl")


@dataclass
class TurnResult:
    id: str
    domain: str
    kind: str  # single | conversation
    message: str
    prompt_in: str | None
    prompt_out: str
    failures: list[str]
    checks: int
    seconds: float
    parsed_clean: bool
    usable: bool
    source: str


@dataclass
class Report:
    llm: str
    split: str
    load_seconds: float
    import_seconds: float = 0.0
    turns: list[TurnResult] = field(default_factory=list)
    conversations: list[tuple[str, str, bool]] = field(default_factory=list)  # id, domain, all turns right

    def summary(self) -> dict:
        def acc(rows: list[TurnResult]) -> float | None:
            return None if not rows else sum(not r.failures for r in rows) / len(rows)

        singles = [t for t in self.turns if t.kind == "single"]
        conv_turns = [t for t in self.turns if t.kind == "conversation"]
        checks = sum(t.checks for t in self.turns)
        failed = sum(len(t.failures) for t in self.turns)
        llm_turns = [t for t in self.turns if t.source not in ("shape", "rules")]
        out = {
            "llm": self.llm,
            "split": self.split,
            "turns": len(self.turns),
            "accuracy": {
                "shape": acc([t for t in singles if t.domain == "shape"]),
                "general": acc([t for t in singles if t.domain == "general"]),
                "conversation_turns": acc(conv_turns),
                "conversation_turns_shape": acc([t for t in conv_turns if t.domain == "shape"]),
                "conversation_turns_general": acc([t for t in conv_turns if t.domain == "general"]),
                "conversations_all_right": (sum(ok for _, _, ok in self.conversations) / len(self.conversations)
                                            if self.conversations else None),
            },
            "per_check_accuracy": (checks - failed) / checks if checks else None,
            "usable_share": sum(t.usable for t in self.turns) / len(self.turns) if self.turns else None,
            "parsed_without_repair": (sum(t.parsed_clean for t in llm_turns) / len(llm_turns)) if llm_turns else None,
            "llm_turn_share": len([t for t in self.turns if t.source in ("llm",) or t.parsed_clean is False])
            / len(self.turns) if self.turns else None,
            "sources": {s: sum(t.source == s for t in self.turns) for s in sorted({t.source for t in self.turns})},
            "median_seconds": statistics.median(t.seconds for t in self.turns) if self.turns else None,
            "p90_seconds": (sorted(t.seconds for t in self.turns)[int(0.9 * (len(self.turns) - 1))]
                            if self.turns else None),
            "load_seconds": self.load_seconds,
            "import_seconds": self.import_seconds,
        }
        return out


def _info(rewriter) -> tuple[bool, bool, str]:
    last = getattr(rewriter, "last", None)
    if last is None:
        return True, True, "direct"
    return bool(last.parsed_clean), bool(last.usable), str(last.source)


def run_benchmark(rewriter, singles: list[dict], conversations: list[dict], *, llm: str = "",
                  split: str = "", load_seconds: float = 0.0, progress=None) -> Report:
    """Run every single item and every conversation through ``rewriter``."""
    report = Report(llm=llm, split=split, load_seconds=load_seconds)
    for n, item in enumerate(singles):
        history = [tuple(h) for h in item.get("history", [])]
        start = time.perf_counter()
        edit = rewriter.rewrite(item["message"], prompt=item.get("prompt"), history=history)
        seconds = time.perf_counter() - start
        clean, usable, source = _info(rewriter)
        report.turns.append(TurnResult(
            id=item["id"], domain=item.get("domain", ""), kind="single", message=item["message"],
            prompt_in=item.get("prompt"), prompt_out=edit.prompt,
            failures=failed_checks(edit.prompt, item.get("must_contain", []), item.get("must_not_contain", [])),
            checks=len(item.get("must_contain", [])) + len(item.get("must_not_contain", [])),
            seconds=seconds, parsed_clean=clean, usable=usable, source=source))
        if progress:
            progress(n + 1, len(singles) + len(conversations))
    for n, conv in enumerate(conversations):
        prompt: str | None = None
        history: list[tuple[str, str]] = []
        all_right = True
        for k, turn in enumerate(conv["turns"]):
            start = time.perf_counter()
            edit = rewriter.rewrite(turn["message"], prompt=prompt, history=list(history))
            seconds = time.perf_counter() - start
            clean, usable, source = _info(rewriter)
            failures = failed_checks(edit.prompt, turn.get("must_contain", []), turn.get("must_not_contain", []))
            all_right = all_right and not failures
            report.turns.append(TurnResult(
                id=f"{conv['id']}#{k}", domain=conv.get("domain", ""), kind="conversation",
                message=turn["message"], prompt_in=prompt, prompt_out=edit.prompt, failures=failures,
                checks=len(turn.get("must_contain", [])) + len(turn.get("must_not_contain", [])),
                seconds=seconds, parsed_clean=clean, usable=usable, source=source))
            prompt = edit.prompt
            history.append((turn["message"], prompt))
        report.conversations.append((conv["id"], conv.get("domain", ""), all_right))
        if progress:
            progress(len(singles) + n + 1, len(singles) + len(conversations))
    return report


def _pct(value: float | None) -> str:
    return "  n/a" if value is None else f"{100 * value:5.1f}%"


def format_report(report: Report, show_failures: int = 0) -> str:
    s = report.summary()
    a = s["accuracy"]
    lines = [
        f"rewriter benchmark — llm: {s['llm']}, split: {s['split']}, {s['turns']} turns",
        f"  shape-world single turns fully right : {_pct(a['shape'])}",
        f"  general single turns fully right     : {_pct(a['general'])}",
        f"  conversation turns fully right       : {_pct(a['conversation_turns'])}"
        f"  (shape {_pct(a['conversation_turns_shape']).strip()}, general {_pct(a['conversation_turns_general']).strip()})",
        f"  whole conversations right            : {_pct(a['conversations_all_right'])}",
        f"  per-check accuracy                   : {_pct(s['per_check_accuracy'])}",
        f"  usable without falling back          : {_pct(s['usable_share'])}",
        f"  LLM outputs parsed without repair    : {_pct(s['parsed_without_repair'])}",
        "  answered by                          : " + ", ".join(f"{k} {v}" for k, v in s["sources"].items()),
        f"  median / p90 seconds per turn        : {s['median_seconds']:.3f} / {s['p90_seconds']:.3f}"
        if s["median_seconds"] is not None else "  median seconds per turn: n/a",
        f"  model load seconds                   : {s['load_seconds']:.2f}"
        f"  (+ {s['import_seconds']:.2f} s importing torch/transformers)",
    ]
    if show_failures:
        bad = [t for t in report.turns if t.failures][:show_failures]
        if bad:
            lines.append("  failures:")
        for t in bad:
            lines.append(f"    [{t.id}] {t.message!r}\n      in : {t.prompt_in!r}\n      out: {t.prompt_out!r}\n"
                         f"      {'; '.join(t.failures)}  ({t.source})")
    return "\n".join(lines)


@click.command("rewriter")
@click.option("--llm", default="builtin", show_default=True,
              help="builtin, a Hub id, a model folder, a .gguf file, or 'none' (rules only, no LLM).")
@click.option("--set", "eval_set", type=click.Choice(sorted(EVAL_SETS)), default="generated", show_default=True,
              help="generated: the generator's tune/heldout items; fresh: the hand-written set (--split ignored).")
@click.option("--split", type=click.Choice(["heldout", "tune", "all"]), default="heldout", show_default=True)
@click.option("--limit", type=int, default=None, help="At most N single items and N conversations (evenly spaced).")
@click.option("--mode", type=click.Choice(["auto", "rules-first", "llm-first", "llm-only"]), default="auto",
              show_default=True, help="How the LLM and the deterministic rules share the work.")
@click.option("--device", default=None, help="cpu, cuda, mps (default: best available).")
@click.option("--threads", type=int, default=None, help="torch CPU threads.")
@click.option("--adapter/--no-adapter", default=True, show_default=True,
              help="Use the built-in model's LoRA adapter (when it ships).")
@click.option("--failures", "show_failures", type=int, default=0, help="Print the first N failing turns.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def rewriter_command(llm: str, eval_set: str, split: str, limit: int | None, mode: str, device: str | None,
                     threads: int | None, adapter: bool, show_failures: int, as_json: bool) -> None:
    """Score the rewriter on the evaluation set (accuracy per domain, speed, load time)."""
    if eval_set == "fresh":  # one split only
        split = "fresh"
    singles, conversations = load_items(split, eval_set=eval_set)
    if not singles and not conversations:
        raise click.ClickException(f"no evaluation items for set {eval_set!r}, split {split!r} in {eval_dir()}")
    if limit is not None:  # evenly spaced, so both domains stay represented
        singles = singles[::max(1, -(-len(singles) // limit))][:limit] if singles else singles
        conversations = conversations[::max(1, -(-len(conversations) // limit))][:limit] if conversations else conversations
    if threads:
        import torch

        torch.set_num_threads(threads)
    import_seconds = 0.0
    if llm.lower() != "none":  # torch + transformers imports, timed apart (the app has them loaded already)
        start = time.perf_counter()
        import torch  # noqa: F401
        import transformers  # noqa: F401
        from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: F401

        import_seconds = time.perf_counter() - start
    start = time.perf_counter()
    if llm.lower() == "none":
        from chatimg.understand.llm.rewriter import LLMRewriter

        rewriter = LLMRewriter(None, name="rules only", mode="rules-first")
    else:
        from chatimg.understand.rewriter import load_rewriter

        say = (lambda m: click.echo(m, err=True)) if not as_json else None
        rewriter = load_rewriter(llm, device=device, progress=say, mode=None if mode == "auto" else mode,
                                 adapter=adapter)
    load_seconds = time.perf_counter() - start
    if llm.lower() != "none" and rewriter.generate is not None:  # warm up (first forward pass is slow)
        rewriter.generate(rewriter.templates.messages("make it night", "a cat on a sofa"))

    def progress(done: int, total: int) -> None:
        if not as_json and sys.stderr.isatty():
            click.echo(f"\r{done}/{total}", err=True, nl=False)

    report = run_benchmark(rewriter, singles, conversations, llm=rewriter.name + f" ({rewriter.mode})",
                           split=split, load_seconds=load_seconds, progress=progress)
    report.import_seconds = import_seconds
    if as_json:
        click.echo(json.dumps(report.summary(), indent=2))
    else:
        click.echo(("\n" if sys.stderr.isatty() else "") + format_report(report, show_failures))


if __name__ == "__main__":
    rewriter_command()
