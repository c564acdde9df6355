"""The large preview: one widget per image, so a new image never shows a stale one."""

from __future__ import annotations

from PIL import Image
from rich.console import RenderableType
from textual.widget import Widget
from textual.widgets import Static

from chatimg.paint.preview import halfblock


class HalfblockImage(Static):
    """Re-renders the image to fit whatever size the layout gives it."""

    DEFAULT_CSS = """
    HalfblockImage { width: 1fr; height: 1fr; content-align: center middle; }
    """

    def __init__(self, image: Image.Image, **kwargs) -> None:
        super().__init__(**kwargs)
        self.image = image

    def render(self) -> RenderableType:
        width, height = self.content_size
        if width < 1 or height < 1:
            return ""
        return halfblock(self.image, width, height)


def image_widget(image: Image.Image, mode: str, **kwargs) -> Widget:
    """The best widget for ``mode`` (``halfblock``, ``kitty`` or ``sixel``)."""
    if mode == "kitty":
        from textual_image.widget import TGPImage

        return TGPImage(image, **kwargs)
    if mode == "sixel":
        from textual_image.widget import SixelImage

        return SixelImage(image, **kwargs)
    return HalfblockImage(image, **kwargs)
