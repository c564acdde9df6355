"""Self-check: the shape-world checker and a CLIP model judge takes; the engine repaints a turn
that missed with new seeds, keeps the best take and the others as siblings."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chatimg.core.store import SessionStore
from chatimg.engine import ChatEngine
from chatimg.paint.painter import PaintDefaults, PaintResult
from chatimg.paint.verify import ClipVerifier, paint_checked, retry_seed, summary
from chatimg.shapeworld import parse_prompt, render
from chatimg.shapeworld.verify import ShapeWorldVerifier
from chatimg.wiring import load_verifier
from tests.shapeworld.pictures import BLUE_SQUARE, RED_SQUARE, TWO, picture


class FlakyShapePainter:
    """Draws the prompt's scene, except that for the seeds in ``wrong`` the left shape comes
    out round (a diffusion model's miss): another seed gets it right."""

    name = "flaky"
    defaults = PaintDefaults(steps=1, guidance=0.0, prompts="shapeworld")

    def __init__(self, wrong: set[int] | None = None, mode: str | None = None) -> None:
        self.wrong = set(wrong or ())
        self.mode = mode
        self.seeds: list[int] = []

    def paint(self, request, on_step=None, cancel=None):
        self.seeds.append(request.seed)
        scene = parse_prompt(request.prompt, defaults=True)
        if request.seed in self.wrong or -1 in self.wrong:
            left = scene.shape_at("left")
            scene = scene.replace_shape(left, replace(left, shape="circle"))
        mode = self.mode or ("txt2img" if request.init_image is None else "inpaint")
        return PaintResult(image=render(scene, seed=1), mode=mode, steps=1, guidance=0.0, seconds=0.01)


@pytest.fixture
def make_engine(tmp_path):
    def build(painter, tries=2, verifier="shapeworld"):
        verifier = ShapeWorldVerifier() if verifier == "shapeworld" else verifier
        return ChatEngine(SessionStore(tmp_path / "sessions"), painter_factory=lambda status: painter,
                          verifier_factory=(lambda p, status: verifier) if verifier else None,
                          verify_tries=tries, model_name="flaky")
    return build


def test_a_missed_turn_is_painted_again_and_the_reply_says_so(make_engine):
    painter = FlakyShapePainter()
    engine = make_engine(painter)
    engine.set_setting("seed", 7)
    painter.wrong = {7}
    outcome = engine.run_turn(RED_SQUARE, direct=True)
    assert painter.seeds == [7, retry_seed(7, 1)]
    assert outcome.turn.seed == retry_seed(7, 1) and outcome.turn.mode == "txt2img" and outcome.takes == 2
    assert outcome.turn.edit.reply.endswith("The square came out round; took the second try.")
    assert ShapeWorldVerifier().judge(RED_SQUARE, outcome.image).ok
    # The first take stays in the tree, a sibling of the kept one; the head is the kept one.
    session = SessionStore(engine.store.root).load(engine.session.id)
    aside, kept = session.turns
    assert aside.parent is None and kept.parent is None and session.head == kept.index
    assert aside.seed == 7 and aside.image and "set aside: the square came out round" in aside.edit.reply
    assert [t.index for t in session.branch()] == [kept.index]


def test_the_next_turn_is_checked_against_the_picture_before_it(make_engine):
    painter = FlakyShapePainter()
    engine = make_engine(painter)
    engine.set_setting("seed", 3)
    engine.run_turn(RED_SQUARE, direct=True)
    painter.wrong = {3, retry_seed(3, 1)}
    outcome = engine.run_turn(BLUE_SQUARE, direct=True)
    assert painter.seeds == [3, 3, retry_seed(3, 1), retry_seed(3, 2)]
    assert outcome.turn.edit.reply.endswith("took the third try.")
    assert len(engine.session.turns) == 4 and outcome.turn.parent == 0
    assert [t.parent for t in engine.session.turns[1:]] == [0, 0, 0]


def test_when_every_try_misses_the_closest_is_kept_and_the_reply_says_so(make_engine):
    painter = FlakyShapePainter(wrong={-1})
    engine = make_engine(painter, tries=1)
    outcome = engine.run_turn(RED_SQUARE, direct=True)
    assert len(painter.seeds) == 2
    assert "none of 2 tries got it all right" in outcome.turn.edit.reply
    assert len(engine.session.turns) == 2


@pytest.mark.parametrize("tries, verifier", [(0, "shapeworld"), (2, None)])
def test_no_verify_paints_once(make_engine, tries, verifier):
    painter = FlakyShapePainter(wrong={-1})
    engine = make_engine(painter, tries=tries, verifier=verifier)
    outcome = engine.run_turn(RED_SQUARE, direct=True)
    assert len(painter.seeds) == 1 and len(engine.session.turns) == 1
    assert "try" not in outcome.turn.edit.reply


def test_only_takes_painted_from_noise_are_retried(make_engine):
    painter = FlakyShapePainter(wrong={-1}, mode="retouch")  # a retouch: a new seed would give the same
    engine = make_engine(painter)
    engine.run_turn(RED_SQUARE, direct=True)
    assert len(painter.seeds) == 1


def test_a_replayed_turn_is_painted_once_with_its_recorded_seed(make_engine):
    painter = FlakyShapePainter(wrong={-1})
    engine = make_engine(painter)
    turn = engine.run_turn(RED_SQUARE, direct=True).turn
    painter.seeds.clear()
    engine.new_session()
    engine.replay_turn(turn)
    assert painter.seeds == [turn.seed]


def test_paint_checked_without_a_verifier_and_summary_of_one_take():
    results = []

    def paint(seed):
        results.append(seed)
        return PaintResult(image=picture(RED_SQUARE), mode="txt2img", steps=1, guidance=0.0, seconds=0.0)

    takes, best = paint_checked(paint, 5, None, 2, prompt=RED_SQUARE)
    assert results == [5] and best == 0 and summary(takes, best) == ""


@pytest.fixture(scope="module")
def tiny_clip_dir(tmp_path_factory):
    from tests.tiny_vision_models import build_tiny_clip

    return build_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


@pytest.mark.slow
def test_a_clip_model_judges_by_which_description_fits_better(tiny_clip_dir):
    judge = load_verifier(str(tiny_clip_dir), painter=None)
    assert isinstance(judge, ClipVerifier)
    red, blue = picture(RED_SQUARE), picture(BLUE_SQUARE)
    forward = judge.judge(BLUE_SQUARE, red, before_prompt=RED_SQUARE, before_image=red)
    backward = judge.judge(RED_SQUARE, red, before_prompt=BLUE_SQUARE, before_image=red)
    assert forward.landed != backward.landed  # one description fits the picture better than the other
    assert forward.kept and backward.kept  # the same picture: nothing else changed
    strict = ClipVerifier(str(tiny_clip_dir), min_keep=0.99999)
    assert not strict.judge(BLUE_SQUARE, blue, before_prompt=RED_SQUARE, before_image=picture(TWO)).kept


def test_the_verifier_is_chosen_by_the_painter(tmp_path):
    assert isinstance(load_verifier(None, FlakyShapePainter()), ShapeWorldVerifier)
    assert load_verifier("auto", type("P", (), {"spec": "sd", "defaults": PaintDefaults()})()) is None
    with pytest.raises(ValueError, match="cannot load verifier"):
        load_verifier(str(tmp_path), painter=None)
