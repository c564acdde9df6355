"""Every diffusers family chatimg paints with, as a tiny random pipeline loaded from disk like a
user's checkpoint, plays a three-turn conversation through ``ChatEngine``: a new picture, an
edit of a named thing, and an edit of the left side. What reached the model, the mode, the size
and the saved session are checked; prompt-conditioned models get the full prompt, instruction-
edit models an imperative instruction."""

from __future__ import annotations

import functools
import importlib.util
import json

import numpy as np
import pytest

from chatimg.core.model import Edit
from chatimg.paint.imperative import canvas_instruction, imperative_instruction
from chatimg.paint.model_families import FAMILIES, family_of, tuning
from tests.tiny_families import BUILDERS

#: family key -> (family name, what the first turn is)
MATRIX = {
    "sd": ("Stable Diffusion 1.x/2.x", "txt2img"),
    "sdxl": ("SDXL", "txt2img"),
    "lcm": ("LCM", "txt2img"),
    "sd3": ("Stable Diffusion 3", "txt2img"),
    "flux": ("FLUX.1", "txt2img"),
    "z-image": ("Z-Image", "txt2img"),
    "qwen-image": ("Qwen-Image", "txt2img"),
    "flux-kontext": ("FLUX.1 Kontext", "txt2img"),
    "flux2": ("FLUX.2", "txt2img"),
    "flux2-klein": ("FLUX.2 klein", "txt2img"),
    "instruct-pix2pix": ("InstructPix2Pix", "canvas"),
    "qwen-image-edit": ("Qwen-Image-Edit", "canvas"),
    "qwen-image-edit-plus": ("Qwen-Image-Edit-Plus", "canvas"),
}
#: transformers builds Qwen2VLProcessor (the Qwen-Image-Edit pipelines' processor) only with torchvision
NEEDS_TORCHVISION = {"qwen-image-edit", "qwen-image-edit-plus"}

FIRST = Edit(prompt="a red car on a street", instruction="new picture", strength=1.0)
SECOND = Edit(prompt="a blue car on a street", instruction="car → blue", strength=0.6, region="car")
THIRD = Edit(prompt="a blue car on a street, a dog on the left", instruction="added a dog on the left",
             strength=0.8, region="left")


class ScriptedRewriter:
    """Says what a rewriter would for each message, so the test is about the painter."""

    name = "scripted"

    def __init__(self, edits: list[Edit]) -> None:
        self.edits = list(edits)

    def rewrite(self, message, *, prompt, history=()):
        return self.edits.pop(0)


@pytest.fixture(scope="session")
def build_family(tmp_path_factory):
    """Builds each tiny pipeline once per test session."""
    built = {}

    def build(key: str):
        if key not in built:
            built[key] = BUILDERS[key](tmp_path_factory.mktemp(key))
        return built[key]

    return build


@pytest.fixture(scope="session", params=list(MATRIX))
def family_folder(request, build_family):
    if request.param in NEEDS_TORCHVISION and importlib.util.find_spec("torchvision") is None:
        pytest.skip(f"{request.param}: transformers needs torchvision for Qwen2VLProcessor")
    return request.param, build_family(request.param)


def spy_on_pipelines(monkeypatch, class_name: str, calls: list[dict] | None = None) -> list[str]:
    """The ``prompt`` every pipeline of this family (text-to-image, img2img, inpaint) is called
    with; each call's keyword arguments go to ``calls`` too."""
    import diffusers
    from diffusers.pipelines.auto_pipeline import (
        AUTO_IMAGE2IMAGE_PIPELINES_MAPPING,
        AUTO_INPAINT_PIPELINES_MAPPING,
        AUTO_TEXT2IMAGE_PIPELINES_MAPPING,
        _get_task_class,
    )

    seen: list[str] = []
    classes = {getattr(diffusers, class_name)}
    for mapping in (AUTO_TEXT2IMAGE_PIPELINES_MAPPING, AUTO_IMAGE2IMAGE_PIPELINES_MAPPING,
                    AUTO_INPAINT_PIPELINES_MAPPING):
        classes.add(_get_task_class(mapping, class_name, throw_error_if_not_exist=False))
    for cls in classes - {None}:
        original = cls.__call__

        @functools.wraps(original)  # keeps the signature the painter inspects
        def spy(self, *args, __original=original, **kwargs):
            seen.append(kwargs["prompt"])
            if calls is not None:
                calls.append(kwargs)
            return __original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__call__", spy)
    return seen


def test_three_turns_with_each_family(family_folder, tmp_path, monkeypatch):
    from chatimg.core.store import SessionStore
    from chatimg.engine import ChatEngine
    from chatimg.paint.painter import DiffusersPainter

    key, folder = family_folder
    name, first = MATRIX[key]
    class_name = json.loads((folder / "model_index.json").read_text())["_class_name"]
    family = family_of(class_name)
    assert family.name == name
    size = json.loads((folder / "chatimg.json").read_text()).get("width", 32)
    seen = spy_on_pipelines(monkeypatch, class_name)
    store = SessionStore(tmp_path / "sessions")
    engine = ChatEngine(store, rewriter_factory=lambda _s: ScriptedRewriter([FIRST, SECOND, THIRD]),
                        painter_factory=lambda _s: DiffusersPainter(str(folder), device="cpu").load(),
                        model_name=str(folder))
    engine.set_setting("seed", 7)
    outcomes = [engine.run_turn(text) for text in
                ("a red car on a street", "make the car blue", "put a dog on the left")]
    turns = [o.turn for o in outcomes]

    if family.kind == "prompt":
        assert [t.model_prompt for t in turns] == [FIRST.prompt, SECOND.prompt, THIRD.prompt]
        assert turns[0].mode == "txt2img" and turns[1].mode == "img2img"
        third_mode = "inpaint" if engine.painter.pipeline("inpaint") is not None else "img2img"
        assert turns[2].mode == third_mode
    else:
        instructions = [imperative_instruction(e.instruction, e.prompt) for e in (SECOND, THIRD)]
        assert instructions == ["Make the car blue; keep everything else as it is.",
                                "Add a dog on the left; keep everything else as it is."]
        if first == "txt2img":
            assert (turns[0].mode, turns[0].model_prompt) == ("txt2img", FIRST.prompt)
        else:
            assert (turns[0].mode, turns[0].model_prompt) == ("instruct", canvas_instruction(FIRST.prompt))
            assert "neutral grey canvas" in outcomes[0].notes[0]
        assert [t.mode for t in turns[1:]] == ["instruct", "instruct"]
        assert [t.model_prompt for t in turns[1:]] == instructions
    assert seen == [t.model_prompt for t in turns]  # exactly what the pipelines were called with
    assert all(o.image.size == (size, size) for o in outcomes)
    if turns[2].mode in ("inpaint", "instruct"):  # the left side was repainted, the right kept
        before, after = (np.asarray(o.image).astype(int) for o in outcomes[1:])
        assert (after[:, size * 3 // 4:] == before[:, size * 3 // 4:]).all()
        assert not (after[:, : size // 4] == before[:, : size // 4]).all()

    engine.close()  # one writer per session: let the resumed engine have it
    resumed = ChatEngine(SessionStore(tmp_path / "sessions"))
    resumed.resume(engine.session.id)
    assert [(t.mode, t.model_prompt) for t in resumed.session.branch()] == [(t.mode, t.model_prompt) for t in turns]
    assert np.array_equal(np.asarray(resumed.current_image()), np.asarray(outcomes[-1].image))


def test_an_unsupported_family_is_a_one_line_error_naming_it(tmp_path, tiny_pipeline_dir):
    import shutil

    from chatimg.paint.painter import DiffusersPainter, PainterError

    folder = tmp_path / "pixart"
    shutil.copytree(tiny_pipeline_dir, folder)
    index = json.loads((folder / "model_index.json").read_text())
    (folder / "model_index.json").write_text(json.dumps({**index, "_class_name": "PixArtSigmaPipeline"}))
    with pytest.raises(PainterError) as error:
        DiffusersPainter(str(folder), device="cpu").load()
    message = str(error.value)
    assert "PixArtSigmaPipeline" in message and "\n" not in message
    assert "FLUX.1 Kontext" in message  # and says what it can paint with


def test_the_cli_reports_an_unsupported_family_without_a_traceback(tmp_path, tiny_pipeline_dir):
    import shutil

    from click.testing import CliRunner

    from chatimg.cli import cli

    folder = tmp_path / "pixart"
    shutil.copytree(tiny_pipeline_dir, folder)
    index = json.loads((folder / "model_index.json").read_text())
    (folder / "model_index.json").write_text(json.dumps({**index, "_class_name": "PixArtSigmaPipeline"}))
    result = CliRunner().invoke(cli, ["run", "--no-llm", "--json", "--device", "cpu", "--model", str(folder),
                                      "--sessions-dir", str(tmp_path / "s"), "a red car"])
    assert result.exit_code != 0
    assert "does not support PixArtSigmaPipeline" in result.output and "Traceback" not in result.output


def test_json_reports_the_text_the_model_received(tmp_path, tiny_pipeline_dir):
    from click.testing import CliRunner

    from chatimg.cli import cli

    result = CliRunner().invoke(cli, ["run", "--no-llm", "--json", "--device", "cpu", "--model",
                                      str(tiny_pipeline_dir), "--sessions-dir", str(tmp_path / "s"), "a red car"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output.strip().splitlines()[-1])
    assert record["model_prompt"] == "a red car" and record["mode"] == "txt2img"


def test_each_family_has_its_own_settings():
    by_name = {f.name: f for f in FAMILIES}
    assert by_name["FLUX.1"].gpu_dtype == by_name["Stable Diffusion 3"].gpu_dtype == "bfloat16"
    assert by_name["Qwen-Image-Edit"].guidance_kind == "true_cfg"
    assert by_name["SDXL"].gpu_dtype == "float16" and "fp16" in by_name["SDXL"].note
    assert by_name["InstructPix2Pix"].kind == "instruction" and not by_name["InstructPix2Pix"].txt2img
    assert tuning(by_name["FLUX.1"], "black-forest-labs/FLUX.1-schnell", None).steps == 4
    assert tuning(by_name["Stable Diffusion 1.x/2.x"], "stabilityai/sd-turbo", None).guidance == 0.0


def test_dtype_follows_the_family_on_a_gpu_and_is_float32_on_the_cpu():
    import torch

    from chatimg.paint.painter import family_dtype

    flux, sdxl = family_of("FluxPipeline"), family_of("StableDiffusionXLPipeline")
    assert family_dtype(flux, "cuda") is torch.bfloat16 and family_dtype(sdxl, "cuda") is torch.float16
    assert family_dtype(flux, "cpu") is torch.float32


def test_a_family_whose_packages_are_missing_says_what_to_install(tmp_path):
    from chatimg.paint.model_families import missing_packages
    from chatimg.paint.painter import DiffusersPainter, PainterError

    if not missing_packages(family_of("QwenImageEditPipeline")):
        pytest.skip("torchvision is installed here")
    folder = tmp_path / "qwen-edit"
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "QwenImageEditPipeline"}))
    with pytest.raises(PainterError, match="Qwen-Image-Edit models need torchvision: pip install torchvision"):
        DiffusersPainter(str(folder), device="cpu").load()


@pytest.mark.parametrize(("key", "given", "withheld"), [
    ("sd", {"guidance_scale": 3.0, "negative_prompt": "blurry"}, {"true_cfg_scale"}),
    ("flux", {"guidance_scale": 3.5}, {"negative_prompt", "true_cfg_scale"}),
    ("qwen-image", {"true_cfg_scale": 2.0, "negative_prompt": "blurry"}, {"guidance_scale"}),
])
def test_guidance_and_negative_prompt_as_each_family_takes_them(key, given, withheld, build_family, monkeypatch):
    """Classifier-free guidance with the negative prompt (SD); a distilled guidance strength and
    no negative prompt, said in the notes (FLUX.1 dev); true CFG with it (Qwen-Image)."""
    from chatimg.paint.painter import DiffusersPainter, PaintRequest

    folder = build_family(key)
    calls: list[dict] = []
    spy_on_pipelines(monkeypatch, json.loads((folder / "model_index.json").read_text())["_class_name"], calls)
    painter = DiffusersPainter(str(folder), device="cpu").load()
    result = painter.paint(PaintRequest(prompt="a red car", negative_prompt="blurry", seed=0))
    assert {k: calls[0][k] for k in given} == given and not withheld & set(calls[0])
    assert any("'blurry' was not used" in note for note in result.notes) == ("negative_prompt" not in given)


def test_the_cli_shows_what_an_instruction_edit_model_was_told(build_family, tmp_path):
    from click.testing import CliRunner

    from chatimg.cli import cli

    folder = build_family("instruct-pix2pix")
    result = CliRunner().invoke(cli, ["run", "--no-llm", "--device", "cpu", "--model", str(folder), "--sessions-dir",
                                      str(tmp_path / "s"), "a red car on a street", "make the car blue"])
    assert result.exit_code == 0, result.output
    assert "told:     Make the car blue; keep everything else as it is." in result.output
    assert "told:     Turn this blank canvas into a picture of a red car on a street." in result.output
