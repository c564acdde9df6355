"""Provenance in the PNGs chatimg writes, read back by Pillow the way A1111, ComfyUI and chatimg read it."""

from __future__ import annotations

import json
import re

import pytest
from PIL import Image

from chatimg import __version__
from chatimg.core import provenance
from chatimg.core.model import Edit, Session, Turn
from chatimg.core.store import SessionStore
from chatimg.engine import ChatEngine
from tests.fakes import AppendRewriter, SolidPainter

#: AUTOMATIC1111's own pattern for the key: value pairs of the last line (modules/infotext_utils.py).
A1111_PAIR = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


@pytest.fixture
def engine(tmp_path):
    rewriter, painter = AppendRewriter(), SolidPainter()
    return ChatEngine(SessionStore(tmp_path / "sessions"), rewriter_factory=lambda status: rewriter,
                      painter_factory=lambda status: painter, model_name="solid", llm_name="append")


def a1111_fields(parameters: str) -> tuple[str, str, dict[str, str]]:
    """Split ``parameters`` as A1111's PNG Info does: prompt lines, negative prompt, last-line pairs."""
    *lines, last = parameters.strip().split("\n")
    negative = ""
    prompt_lines = []
    for line in lines:
        if line.startswith("Negative prompt:"):
            negative = line[len("Negative prompt:"):].strip()
        else:
            prompt_lines.append(line)
    pairs = {k.strip(): v.strip() for k, v in A1111_PAIR.findall(last)}
    return "\n".join(prompt_lines), negative, pairs


def test_a_painted_turn_carries_parameters_lineage_and_the_ai_mark(engine):
    engine.run_turn("a red circle")
    engine.run_turn("make it green")
    path = engine.image_path(engine.session.current())
    with Image.open(path) as image:
        text = image.text
    prompt, negative, pairs = a1111_fields(text["parameters"])
    assert text["parameters"].startswith("a red circle, make it green\n")
    assert prompt == "a red circle, make it green" and negative == ""
    turn = engine.session.current()
    assert pairs["Steps"] == str(turn.steps) and pairs["Seed"] == str(turn.seed)
    assert pairs["Size"] == "16x16" and pairs["Model"] == "solid" and pairs["Denoising strength"] == "0.5"
    assert {"Sampler", "CFG scale"} <= pairs.keys()

    lineage = json.loads(text["chatimg"])
    assert lineage["user"] == "make it green" and lineage["parent"] == 0 and lineage["turn"] == 1
    assert lineage["session"] == engine.session.id and lineage["chatimg_version"] == __version__
    assert lineage["edit"]["instruction"] == "make it green" and lineage["edit"]["strength"] == 0.5
    assert lineage["models"] == {"painter": "solid", "rewriter": "append", "sampler": None}
    assert [t["user"] for t in lineage["history"]] == ["a red circle"]

    assert provenance.AI_GENERATED in text[provenance.XMP_KEY]
    found = provenance.read(path)
    assert found.ai_generated and found.digital_source_type == provenance.AI_GENERATED


def test_a1111_parameters_keep_the_negative_prompt_and_quote_separators():
    text = provenance.a1111_parameters(prompt="a cat,  on a mat", negative_prompt="blurry, dark", steps=20,
                                       sampler="Euler a", guidance=7.5, seed=42, size=(512, 768),
                                       model="sd-turbo", strength=0.6, extra={"Note": "a, b"})
    prompt, negative, pairs = a1111_fields(text)
    assert prompt == "a cat, on a mat" and negative == "blurry, dark"
    assert pairs == {"Steps": "20", "Sampler": "Euler a", "CFG scale": "7.5", "Seed": "42", "Size": "512x768",
                     "Model": "sd-turbo", "Denoising strength": "0.6", "Note": '"a, b"'}


def test_sampler_names_follow_a1111():
    from diffusers import DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler

    assert provenance.sampler_name(EulerAncestralDiscreteScheduler()) == "Euler a"
    assert provenance.sampler_name(DPMSolverMultistepScheduler(use_karras_sigmas=True)) == "DPM++ 2M Karras"


def test_a_png_without_provenance_says_so(tmp_path):
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8), "red").save(plain)
    found = provenance.read(plain)
    assert found.empty and not found.ai_generated
    assert "no provenance" in provenance.describe(found, "plain.png")


def test_a_broken_lineage_chunk_is_reported_not_raised(tmp_path):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("chatimg", "{not json")
    bad = tmp_path / "bad.png"
    Image.new("RGB", (8, 8)).save(bad, pnginfo=info)
    found = provenance.read(bad)
    assert found.lineage is None and "not valid JSON" in found.lineage_error
    assert "not valid JSON" in provenance.describe(found, "bad.png")


def test_xmp_escapes_the_description_and_marks_only_model_pictures():
    packet = provenance.xmp_packet(description='a <b> & "c"', created="2026-01-01T00:00:00", ai_generated=True)
    assert "a &lt;b&gt; &amp; \"c\"" in packet
    assert provenance.digital_source_type(packet) == provenance.AI_GENERATED
    plain = provenance.xmp_packet(description="x", created="t", ai_generated=False)
    assert provenance.digital_source_type(plain) is None
    element = "<Iptc4xmpExt:DigitalSourceType>http://x/trainedAlgorithmicMedia</Iptc4xmpExt:DigitalSourceType>"
    assert provenance.digital_source_type(element) == "http://x/trainedAlgorithmicMedia"


def test_lineage_of_a_branch_lists_only_its_own_turns():
    session = Session(id="s1")

    def turn(index, parent, user, mode="img2img"):
        return Turn(index=index, parent=parent, user=user, edit=Edit(prompt=user), mode=mode, seed=1, steps=2,
                    guidance=1.0, model="m")

    session.add_turn(turn(0, None, "first", "import"))
    session.add_turn(turn(1, 0, "second"))
    session.undo()
    session.add_turn(turn(2, 0, "third", "move"))
    record = provenance.lineage(session, turn(3, 2, "fourth", "retouch"), (4, 4))
    assert [t["user"] for t in record["history"]] == ["first", "third"]
    assert record["ai_generated"] is False  # opened, moved and retouched: no model drew a pixel
    assert provenance.lineage(session, turn(3, 2, "fifth"), (4, 4))["ai_generated"] is True
