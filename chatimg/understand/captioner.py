"""An image-to-text model that reads an opened picture into its first prompt (``--captioner``).

Any transformers checkpoint that ``AutoModelForImageTextToText`` loads and that generates a
caption from pixels alone: BLIP (``Salesforce/blip-image-captioning-base``), GIT, a
``VisionEncoderDecoderModel`` (ViT + GPT-2). Safetensors only, never remote code; transformers
is imported when a captioner is built, not before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PIL import Image

#: Captions longer than this many new tokens are cut (a prompt, not an essay).
MAX_NEW_TOKENS = 40


class CaptionerError(Exception):
    """The captioner could not be loaded or could not read the picture; the message is for the user."""


class Captioner:
    def __init__(self, spec: str, device: str | None = "auto") -> None:
        import torch
        from transformers import AutoModelForImageTextToText

        from chatimg.devices import apply_thread_limit, resolve_device

        apply_thread_limit()
        self.name = spec
        self.device = resolve_device(device)
        common: dict[str, Any] = {"trust_remote_code": False}
        try:
            self.model = AutoModelForImageTextToText.from_pretrained(spec, use_safetensors=True, **common)
        except (OSError, ValueError, KeyError) as exc:
            raise CaptionerError(f"cannot load captioner {spec!r}: {str(exc).splitlines()[0]}") from None
        self.model.to(self.device).eval()
        self.processor, self.image_processor, self.tokenizer = self._processors(spec, common)
        self._torch = torch

    @staticmethod
    def _processors(spec: str, common: dict[str, Any]) -> tuple[Any, Any, Any]:
        """A joint processor when the model has one (BLIP, GIT), else an image processor plus a
        tokenizer (a vision encoder-decoder)."""
        from transformers import AutoImageProcessor, AutoProcessor, AutoTokenizer

        try:
            processor = AutoProcessor.from_pretrained(spec, **common)
            if hasattr(processor, "image_processor") and hasattr(processor, "tokenizer"):
                return processor, None, None
        except (OSError, ValueError, KeyError, TypeError):
            pass
        try:
            return None, AutoImageProcessor.from_pretrained(spec, **common), AutoTokenizer.from_pretrained(spec, **common)
        except (OSError, ValueError, KeyError) as exc:
            raise CaptionerError(f"captioner {spec!r} has no image processor and tokenizer: "
                                 f"{str(exc).splitlines()[0]}") from None

    def caption(self, image: Image.Image) -> str:
        """One line that says what ``image`` shows."""
        torch = self._torch
        image = image.convert("RGB")
        if self.processor is not None:
            inputs = self.processor(images=image, return_tensors="pt")
            decode = self.processor.batch_decode
        else:
            inputs = self.image_processor(images=image, return_tensors="pt")
            decode = self.tokenizer.batch_decode
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.inference_mode():
            tokens = self.model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
        text = decode(tokens, skip_special_tokens=True)[0]
        return " ".join(text.split())


def load_captioner(spec: str, device: str | None = "auto",
                   progress: Callable[[str], None] | None = None) -> Captioner:
    if progress is not None:
        progress(f"loading captioner {spec}…")
    return Captioner(spec, device=device)
