"""The captioner: any transformers image-to-text checkpoint, loaded from disk like a user's."""

from __future__ import annotations

import pytest
from PIL import Image

from chatimg.understand.captioner import CaptionerError, load_captioner


@pytest.fixture(scope="module")
def tiny_captioner_dir(tmp_path_factory):
    from tests.tiny_models import build_tiny_captioner

    return build_tiny_captioner(tmp_path_factory.mktemp("tiny-captioner"))


def test_a_tiny_random_captioner_writes_a_caption(tiny_captioner_dir):
    captioner = load_captioner(str(tiny_captioner_dir), device="cpu")
    text = captioner.caption(Image.new("RGB", (50, 40), "red"))
    assert isinstance(text, str) and text == " ".join(text.split())
    assert text == captioner.caption(Image.new("RGB", (50, 40), "red"))  # greedy: the same picture, the same words


def test_a_folder_that_is_no_captioner_is_one_clear_error(tmp_path):
    with pytest.raises(CaptionerError, match="cannot load captioner"):
        load_captioner(str(tmp_path), device="cpu")


def test_cli_open_with_a_captioner(tmp_path, tiny_captioner_dir):
    import json

    from tests.test_cli import chatimg

    photo = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), "blue").save(photo)
    done = chatimg("run", "--json", "--no-llm", "--device", "cpu", "--sessions-dir", str(tmp_path / "s"),
                   "--captioner", str(tiny_captioner_dir), "--image", str(photo))
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["mode"] == "import" and "loading captioner" in done.stderr
    with Image.open(record["image"]) as image:
        assert json.loads(image.text["chatimg"])["models"] == {"captioner": str(tiny_captioner_dir)}
