"""Opening a person's picture: every bad file refused in one line, every good one normalised."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from chatimg.paint.painter import PaintDefaults
from chatimg.paint.picture_input import MAX_PIXELS, PictureError, fit_for_model, normalise, open_picture


def test_missing_not_an_image_and_a_folder_are_refused(tmp_path):
    with pytest.raises(PictureError, match="no such file"):
        open_picture(tmp_path / "nope.png")
    text = tmp_path / "notes.png"
    text.write_text("not pixels")
    with pytest.raises(PictureError, match="not an image"):
        open_picture(text)
    with pytest.raises(PictureError, match="not a file"):
        open_picture(tmp_path)
    truncated = tmp_path / "cut.png"
    Image.new("RGB", (64, 64), "red").save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:60])
    with pytest.raises(PictureError):
        open_picture(truncated)


@pytest.mark.parametrize("size", [(8000, 7000), (20000, 20000)])  # over our limit; over Pillow's own
def test_a_decompression_bomb_is_refused_before_it_is_decoded(tmp_path, size):
    bomb = tmp_path / "bomb.png"
    Image.new("1", size).save(bomb)  # a few hundred kB on disk
    assert size[0] * size[1] > MAX_PIXELS
    with pytest.raises(PictureError, match="megapixels"):
        open_picture(bomb)


def test_a_file_inside_the_sessions_folder_is_refused(tmp_path):
    root = tmp_path / "sessions"
    (root / "s1").mkdir(parents=True)
    inside = root / "s1" / "turn-000.png"
    Image.new("RGB", (8, 8)).save(inside)
    with pytest.raises(PictureError, match="inside the sessions folder"):
        open_picture(tmp_path / "sessions" / ".." / "sessions" / "s1" / "turn-000.png", sessions_root=root)
    assert open_picture(inside).image.size == (8, 8)  # anywhere else it opens


def test_modes_become_8_bit_rgb():
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    assert normalise(rgba).getpixel((0, 0)) == (255, 255, 255)  # transparent: white, not black
    palette = Image.new("P", (4, 4), 1)
    palette.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    assert normalise(palette).getpixel((0, 0)) == (10, 200, 30)
    sixteen = Image.fromarray(np.full((4, 4), 65535, dtype=np.uint16))
    assert sixteen.mode.startswith("I;16")
    assert normalise(sixteen).getpixel((0, 0)) == (255, 255, 255)
    half = Image.fromarray(np.full((4, 4), 32768, dtype=np.uint16))
    assert normalise(half).getpixel((0, 0)) == (128, 128, 128)  # scaled, not clipped at 255
    assert normalise(Image.new("CMYK", (4, 4), (0, 0, 0, 0))).mode == "RGB"


def test_exif_rotation_is_applied_and_the_bytes_are_kept(tmp_path):
    wide = Image.new("RGB", (40, 20), "blue")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to show
    path = tmp_path / "phone.jpg"
    wide.save(path, exif=exif)
    opened = open_picture(path)
    assert opened.image.size == (20, 40) and opened.image.mode == "RGB"
    assert opened.data == path.read_bytes() and opened.suffix == ".jpg"


class FixedSize:
    defaults = PaintDefaults(width=64, height=64)


class Native:
    defaults = PaintDefaults()

    def native_size(self):
        return 512, 512


def test_fit_for_model_uses_the_model_size_and_is_idempotent():
    photo = Image.new("RGB", (640, 480))
    assert fit_for_model(photo, FixedSize()).size == (64, 64)
    fitted = fit_for_model(Image.new("RGB", (3000, 2000)), Native())
    assert fitted.size[0] % 8 == 0 and fitted.size[1] % 8 == 0
    assert abs(fitted.size[0] / fitted.size[1] - 1.5) < 0.05 and 0.5 < fitted.width * fitted.height / 512**2 < 2
    assert fit_for_model(fitted, Native()) is fitted
    same = Image.new("RGB", (64, 64))
    assert fit_for_model(same, FixedSize()) is same
