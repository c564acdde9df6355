"""The shape world's understanding of a change: the ops that turn one scene into another.

A prompt typed in full (``--no-llm``, ``/prompt``) or written by any understander is compared
scene to scene, so every path gets the same typed edit, and from it the same careful region.
"""

from __future__ import annotations

from chatimg.core.ops import Add, EditOp, Move, Recolour, Remove, Replace, Resize, SetBackground, Swap
from chatimg.shapeworld.regions import rearrangement, touched_positions
from chatimg.shapeworld.scene import POSITIONS, Scene, Shape


def _name(shape: Shape) -> str:
    return f"{shape.colour} {shape.shape}"


def ops_between(before: Scene, after: Scene) -> list[EditOp]:
    """The ops that turn ``before`` into ``after`` (empty when they show the same)."""
    ops: list[EditOp] = []
    if before.background != after.background:
        ops.append(SetBackground(value=after.background))
    touched = touched_positions(before, after)
    moves = rearrangement(before, after, touched)
    if moves:
        pairs = {a: b for a, b in moves}
        if len(moves) == 2 and all(pairs.get(b) == a for a, b in moves):
            a, b = moves[0]
            return ops + [Swap(a=_name(before.shape_at(a)), b=_name(before.shape_at(b)))]
        return ops + [Move(target=_name(before.shape_at(a)), to=b) for a, b in moves]
    for position in POSITIONS:
        old, new = before.shape_at(position), after.shape_at(position)
        if old == new:
            continue
        if old is None:
            ops.append(Add(thing=f"a {new.size} {new.colour} {new.shape}", where=position))
        elif new is None:
            ops.append(Remove(target=_name(old)))
        else:
            if old.shape != new.shape:
                ops.append(Replace(old=_name(old), new=f"a {old.colour} {new.shape}"))
            if old.colour != new.colour:
                ops.append(Recolour(target=f"{old.colour} {new.shape}", colour=new.colour))
            if old.size != new.size:
                ops.append(Resize(target=f"{new.colour} {new.shape}", size=new.size))
    return ops
