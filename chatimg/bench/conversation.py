"""``chatimg bench conversation``: whole shape-world conversations through the app's own loop.

The painter and rewriter benchmarks each measure one half of a turn. This one plays every
shape-world conversation of an evaluation set (its messages only, typed one after the other)
through ``ChatEngine``, with the rewriter and painter loaded as the app loads them, and reads
each turn's image back with the checker. A turn is scored against its own prompt and the
previous turn's image:

* follows: every attribute the new prompt changed (background, a shape's kind, colour, size,
  whether a position holds a shape) is right in the new image (a moved shape: as the previous
  image showed it);
* keeps: every attribute the prompt did not change reads the same as in the previous image
  (so a shape the painter got wrong on turn one only counts against turn one).

That is the issue's "a conversation of ten edits keeps every attribute the person did not ask
to change", measured instead of eyeballed.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from chatimg.bench.painter import attributes, share
from chatimg.bench.rewriter import EVAL_SETS, load_items
from chatimg.shapeworld import parse_prompt, read_image
from chatimg.shapeworld.regions import rearrangement, touched_positions


@dataclass
class TurnScore:
    conversation: str
    message: str
    prompt: str
    mode: str
    follows: bool
    keeps: bool
    seconds: float


def score_turn(prompt_before: str, prompt_after: str, image_before, image_after) -> tuple[bool, bool]:
    """(follows, keeps) for one turn; see the module docstring. A prompt that is not a
    shape-world scene changes and keeps nothing that could be checked: (True, True)."""
    before, after = parse_prompt(prompt_before, defaults=True), parse_prompt(prompt_after, defaults=True)
    if before is None or after is None:
        return True, True
    wanted_before, wanted = attributes(before), attributes(after)
    seen_before, seen = attributes(read_image(image_before)), attributes(read_image(image_after))
    keys = set(wanted) | set(wanted_before)
    changed = {k for k in keys if wanted.get(k) != wanted_before.get(k)}
    # A moved shape must look as it did before the move, whatever the prompt says it is.
    moved_from = {to: source for source, to in rearrangement(before, after, touched_positions(before, after)) or []}

    def expected(key: str) -> object:
        position, _, attribute = key.partition(".")
        if position in moved_from and attribute in ("shape", "colour", "size"):
            return seen_before.get(f"{moved_from[position]}.{attribute}")
        return wanted.get(key)

    follows = all(seen.get(k) == expected(k) for k in changed)
    keeps = all(seen.get(k) == seen_before.get(k) for k in keys - changed)
    return follows, keeps


def typed_conversations(count: int, edits: int = 4, seed: int = 0) -> list[dict]:
    """Held-out scenes edited one attribute at a time, each turn typed as a whole new prompt in one
    of the captioner's many phrasings: how a person uses ``--no-llm`` or ``/prompt``."""
    import random

    from chatimg.shapeworld import EDIT_KINDS, caption, random_edit, random_scene

    rng = random.Random(seed)
    conversations = []
    for number in range(count):
        scene = random_scene(rng, split="held_out")
        turns = [{"message": caption(scene, rng)}]
        while len(turns) <= edits:
            try:
                scene = random_edit(scene, rng.choice(EDIT_KINDS), rng)
            except ValueError:  # that kind does not fit this scene: draw another
                continue
            turns.append({"message": caption(scene, rng)})
        conversations.append({"id": f"typed-{number:03d}", "domain": "shape", "turns": turns})
    return conversations


def play(engine, conversation: dict, direct: bool = False) -> list[TurnScore]:
    """Type the conversation's messages into ``engine`` (a fresh session) and score each turn;
    ``direct``: each message is the full prompt, as with ``--no-llm``."""
    from PIL import Image

    engine.new_session()
    scores: list[TurnScore] = []
    previous = None  # (prompt, image) of the last turn
    for turn in conversation["turns"]:
        started = time.perf_counter()
        outcome = engine.run_turn(turn["message"], direct=direct)
        seconds = time.perf_counter() - started
        image = Image.open(engine.image_path(outcome.turn)).convert("RGB")
        if previous is not None:
            follows, keeps = score_turn(previous[0], outcome.turn.edit.prompt, previous[1], image)
            scores.append(TurnScore(conversation["id"], turn["message"], outcome.turn.edit.prompt, outcome.turn.mode,
                                    follows, keeps, seconds))
        previous = (outcome.turn.edit.prompt, image)
    return scores


def summarise(scores: list[TurnScore]) -> dict:
    by_conversation: dict[str, list[TurnScore]] = {}
    for s in scores:
        by_conversation.setdefault(s.conversation, []).append(s)
    return {
        "conversations": len(by_conversation),
        "turns": len(scores),
        "follows": share([s.follows for s in scores]),
        "keeps": share([s.keeps for s in scores]),
        "both": share([s.follows and s.keeps for s in scores]),
        "conversations_keeping_everything": share([all(s.keeps for s in c) for c in by_conversation.values()]),
        "median_seconds_per_turn": statistics.median(s.seconds for s in scores) if scores else float("nan"),
        "modes": {m: sum(s.mode == m for s in scores) for m in sorted({s.mode for s in scores})},
    }


@click.command("conversation")
@click.option("--model", default="builtin", show_default=True, help="Painter, as for chatimg --model.")
@click.option("--llm", default="builtin", show_default=True, help="Rewriter, as for chatimg --llm.")
@click.option("--set", "eval_set", type=click.Choice(sorted(EVAL_SETS)), default="generated", show_default=True,
              help="generated: the generator's conversations; fresh: the hand-written ones.")
@click.option("--split", type=click.Choice(["heldout", "tune", "all"]), default="all", show_default=True,
              help="Split of the generated set (the fresh set has one).")
@click.option("--limit", type=int, default=None, help="At most N conversations.")
@click.option("--seed", type=int, default=1234, show_default=True, help="Session seed (the same for every turn).")
@click.option("--device", default="auto", show_default=True)
@click.option("--failures", type=int, default=0, help="Print the first N turns that do not follow or keep.")
@click.option("--verify/--no-verify", default=True, show_default=True,
              help="The app's self-check: repaint a turn the verifier finds wrong (as chatimg --verify).")
@click.option("--verify-tries", type=click.IntRange(0, 9), default=2, show_default=True)
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None, help="Also write results here.")
@click.option("--direct", is_flag=True, help="No LLM: held-out scenes edited one attribute a turn, each turn typed "
                                             "as a whole new prompt (--no-llm, /prompt); --set and --split are ignored.")
def conversation_command(model: str, llm: str, eval_set: str, split: str, limit: int | None, seed: int, device: str,
                         failures: int, verify: bool, verify_tries: int, json_path: Path | None,
                         direct: bool) -> None:
    """Play shape-world conversations through the app's loop and check every turn's image."""
    from chatimg.wiring import make_engine

    if direct:
        conversations, llm, eval_set = typed_conversations(limit or 24, seed=seed), "none (typed prompts)", "typed"
    else:
        _, conversations = load_items("all" if eval_set == "fresh" else split, eval_set=eval_set)
    conversations = [c for c in conversations if c.get("domain") == "shape"][:limit]
    if not conversations:
        raise click.ClickException("no shape-world conversations in that set and split")
    scores: list[TurnScore] = []
    with tempfile.TemporaryDirectory(prefix="chatimg-bench-") as sessions:
        engine = make_engine(model, llm, device, sessions, seed=seed, no_llm=direct, verify=verify,
                             verify_tries=verify_tries)
        with click.progressbar(conversations, label="conversations", file=click.get_text_stream("stderr")) as bar:
            for conversation in bar:
                scores.extend(play(engine, conversation, direct=direct))
    summary = summarise(scores)
    click.echo(f"conversation benchmark — painter {model}, rewriter {llm}, "
               f"self-check {f'on ({verify_tries} tries)' if verify and verify_tries else 'off'}, {eval_set} set "
               f"({split if eval_set == 'generated' else eval_set}): {summary['conversations']} conversations, "
               f"{summary['turns']} edit turns")
    click.echo(f"  turns whose image follows the change     : {100 * summary['follows']:5.1f}%")
    click.echo(f"  turns whose image keeps everything else  : {100 * summary['keeps']:5.1f}%")
    click.echo(f"  both                                     : {100 * summary['both']:5.1f}%")
    click.echo(f"  conversations keeping everything, always : {100 * summary['conversations_keeping_everything']:5.1f}%")
    click.echo(f"  median seconds per turn (rewrite + paint): {summary['median_seconds_per_turn']:.2f}")
    click.echo(f"  how turns were painted                   : {summary['modes']}")
    misses = [s for s in scores if not (s.follows and s.keeps)][:failures]
    for s in misses:
        click.echo(f"  ✗ {s.conversation}: {s.message!r} -> {s.prompt!r} [{s.mode}]"
                   f"{'' if s.follows else ' (change not shown)'}{'' if s.keeps else ' (something else changed)'}")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({"summary": summary, "turns": [asdict(s) for s in scores]}, indent=1))


if __name__ == "__main__":
    conversation_command()
