"""How a picture was made, written into the PNG itself and read back from any PNG.

Three chunks, so every kind of reader finds its own:

- ``parameters`` (text): AUTOMATIC1111's format, which A1111's PNG Info, ComfyUI and
  civitai parse: the prompt, ``Negative prompt: …``, then ``Steps: …, Seed: …`` pairs.
- ``chatimg`` (UTF-8 iTXt, JSON): the lineage: what the person said, the edit, the parent
  turn, the session, the model ids, the chatimg version, and every earlier turn of the branch,
  enough for ``chatimg replay FILE.png`` to rebuild the conversation without its session.
- ``XML:com.adobe.xmp`` (iTXt): an XMP packet with IPTC's digital source type
  ``trainedAlgorithmicMedia``, the AI-generated mark that photo tools and platforms read.

Pillow only; no model is imported here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image, PngImagePlugin

from chatimg import __version__

PARAMETERS_KEY = "parameters"
LINEAGE_KEY = "chatimg"
XMP_KEY = "XML:com.adobe.xmp"
LINEAGE_FORMAT = 1

IPTC_SOURCE_TYPES = "http://cv.iptc.org/newscodes/digitalsourcetype/"
AI_GENERATED = IPTC_SOURCE_TYPES + "trainedAlgorithmicMedia"

#: Paint modes in which a model drew pixels; a branch with none of them is the person's own picture.
PAINTED_MODES = ("txt2img", "img2img", "inpaint")

#: diffusers scheduler class -> the sampler name A1111 writes (DPM-Solver++ is refined below).
SAMPLER_NAMES = {
    "EulerDiscreteScheduler": "Euler", "EulerAncestralDiscreteScheduler": "Euler a", "DDIMScheduler": "DDIM",
    "PNDMScheduler": "PLMS", "LMSDiscreteScheduler": "LMS", "HeunDiscreteScheduler": "Heun",
    "DPMSolverMultistepScheduler": "DPM++ 2M", "DPMSolverSinglestepScheduler": "DPM++ 2S",
    "KDPM2DiscreteScheduler": "DPM2", "KDPM2AncestralDiscreteScheduler": "DPM2 a", "UniPCMultistepScheduler": "UniPC",
    "LCMScheduler": "LCM", "DDPMScheduler": "DDPM", "TCDScheduler": "TCD",
}


def sampler_name(scheduler: Any) -> str:
    """A1111's name for a diffusers scheduler instance ("DPM++ 2M Karras", "Euler a", …)."""
    cls = type(scheduler).__name__
    name = SAMPLER_NAMES.get(cls, cls.removesuffix("Scheduler") or cls)
    config = getattr(scheduler, "config", {}) or {}
    if cls == "DPMSolverMultistepScheduler" and config.get("algorithm_type") in ("sde-dpmsolver++",):
        name = "DPM++ 2M SDE"
    if config.get("use_karras_sigmas"):
        name += " Karras"
    return name


def _model_label(model: str) -> str:
    """A1111 writes a checkpoint's name, not its path."""
    return Path(model).name if ("/" in model and Path(model).expanduser().exists()) else model


def _number(value: float) -> str:
    return f"{value:g}"


def a1111_parameters(*, prompt: str, negative_prompt: str, steps: int, sampler: str, guidance: float, seed: int,
                     size: tuple[int, int], model: str, strength: float, extra: dict[str, str] | None = None) -> str:
    """The ``parameters`` text exactly as AUTOMATIC1111 writes it (one line of ``key: value``
    pairs after the prompt and the negative prompt)."""
    pairs = {"Steps": str(steps), "Sampler": sampler or "unknown", "CFG scale": _number(guidance),
             "Seed": str(seed), "Size": f"{size[0]}x{size[1]}", "Model": _model_label(model) or "none",
             "Denoising strength": _number(strength), **(extra or {})}
    line = ", ".join(f"{key}: {_quoted(value)}" for key, value in pairs.items())
    lines = [" ".join(prompt.split())]
    if negative_prompt:
        lines.append(f"Negative prompt: {' '.join(negative_prompt.split())}")
    return "\n".join([*lines, line])


def _quoted(value: str) -> str:
    """A1111 quotes a value that holds its separators."""
    return json.dumps(value) if any(c in value for c in ",:\n") else value


def turn_record(turn: Any) -> dict[str, Any]:
    """One turn as the lineage keeps it (the fields a replay needs)."""
    record = {"turn": turn.index, "parent": turn.parent, "user": turn.user, "edit": turn.edit.model_dump(),
              "mode": turn.mode, "seed": turn.seed, "steps": turn.steps, "guidance": turn.guidance,
              "model": turn.model, "llm": turn.llm}
    if getattr(turn, "source", None):
        record["source"] = turn.source
    return record


def lineage(session: Any, turn: Any, size: tuple[int, int], sampler: str = "") -> dict[str, Any]:
    """The ``chatimg`` chunk for ``turn`` of ``session`` (the turn need not be added yet)."""
    earlier = session.branch(turn.parent) if turn.parent is not None else []
    return {
        "format": LINEAGE_FORMAT, "chatimg_version": __version__, "session": session.id,
        "title": session.title or turn.user[:60],
        **turn_record(turn), "prompt": turn.edit.prompt, "size": list(size),
        "models": ({"captioner": turn.llm} if turn.mode == "import" else
                   {"painter": turn.model or None, "rewriter": turn.llm, "sampler": sampler or None}),
        "created": turn.created.isoformat(), "ai_generated": is_ai_generated([*earlier, turn]),
        "history": [turn_record(t) for t in earlier],
    }


def is_ai_generated(branch: list[Any]) -> bool:
    """Whether a model drew any of the pixels on this branch (a picture only opened, moved or
    retouched is still the person's own)."""
    return any(t.mode in PAINTED_MODES for t in branch)


def xmp_packet(*, description: str, created: str, ai_generated: bool) -> str:
    """An XMP packet: IPTC digital source type (when a model drew it), creator tool, description."""
    source = f'\n    Iptc4xmpExt:DigitalSourceType="{AI_GENERATED}"' if ai_generated else ""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        '    xmlns:dc="http://purl.org/dc/elements/1.1/"'
        f'{source}\n'
        f'    xmp:CreatorTool="chatimg {__version__}"\n'
        f'    xmp:CreateDate="{escape(created)}">\n'
        f'   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(description)}</rdf:li></rdf:Alt>'
        '</dc:description>\n'
        '  </rdf:Description>\n'
        ' </rdf:RDF>\n'
        '</x:xmpmeta>\n'
        '<?xpacket end="r"?>'
    )


def turn_pnginfo(session: Any, turn: Any, size: tuple[int, int], sampler: str = "") -> PngImagePlugin.PngInfo:
    """The three chunks for a turn's PNG."""
    record = lineage(session, turn, size, sampler)
    parameters = a1111_parameters(
        prompt=turn.edit.prompt, negative_prompt=turn.edit.negative_prompt, steps=turn.steps,
        sampler=sampler or ("" if turn.mode in PAINTED_MODES else "none"),
        guidance=turn.guidance, seed=turn.seed, size=size, model=turn.model,
        strength=1.0 if turn.mode == "txt2img" else turn.edit.strength,
        extra={"Mode": turn.mode, "Version": f"chatimg {__version__}"})
    return pnginfo(parameters, record, record["created"])


def pnginfo(parameters: str, record: dict[str, Any], created: str) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text(PARAMETERS_KEY, parameters)  # tEXt when Latin-1 (what A1111 writes), else iTXt
    info.add_itxt(LINEAGE_KEY, json.dumps(record, ensure_ascii=False))  # uncompressed: any PNG tool shows it
    info.add_itxt(XMP_KEY, xmp_packet(description=record.get("prompt", ""), created=created,
                                      ai_generated=bool(record.get("ai_generated"))))
    return info


# -- reading ---------------------------------------------------------------------------------
@dataclass
class Provenance:
    """What a picture says about how it was made; every part may be missing."""

    format: str
    size: tuple[int, int]
    mode: str
    parameters: str | None = None
    lineage: dict[str, Any] | None = None
    lineage_error: str | None = None
    xmp: str | None = None
    digital_source_type: str | None = None
    other_text: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.parameters or self.lineage or self.lineage_error or self.xmp)

    @property
    def ai_generated(self) -> bool:
        return bool(self.digital_source_type and self.digital_source_type.endswith("trainedAlgorithmicMedia"))

    def to_json(self) -> dict[str, Any]:
        return {"format": self.format, "size": list(self.size), "mode": self.mode, "parameters": self.parameters,
                "chatimg": self.lineage, "chatimg_error": self.lineage_error, "xmp": self.xmp,
                "digital_source_type": self.digital_source_type, "ai_generated": self.ai_generated,
                "text": self.other_text}


_SOURCE_TYPE = re.compile(r"DigitalSourceType\s*(?:=\s*[\"']([^\"']+)[\"']|>\s*([^<\s]+)\s*<)")


def digital_source_type(xmp: str) -> str | None:
    """IPTC's digital source type in an XMP packet, as attribute or element (no XML parser:
    the packet may come from anywhere)."""
    match = _SOURCE_TYPE.search(xmp)
    return (match[1] or match[2]) if match else None


def read(path: str | Path) -> Provenance:
    """The provenance in any image Pillow opens (raises ``OSError`` / ``PIL.UnidentifiedImageError``)."""
    with Image.open(path) as image:
        text = dict(getattr(image, "text", None) or {})  # PNG tEXt/zTXt/iTXt (reading .text loads nothing big)
        info = dict(image.info)
        result = Provenance(format=image.format or "?", size=image.size, mode=image.mode)
    xmp = text.pop(XMP_KEY, None) or info.get("xmp") or info.get(XMP_KEY)
    if isinstance(xmp, bytes):
        xmp = xmp.decode("utf-8", "replace")
    result.xmp = xmp or None
    result.digital_source_type = digital_source_type(xmp) if xmp else None
    result.parameters = text.pop(PARAMETERS_KEY, None)
    raw = text.pop(LINEAGE_KEY, None)
    if raw is not None:
        try:
            value = json.loads(raw)
            if not isinstance(value, dict):
                raise ValueError("not a JSON object")
            result.lineage = value
        except ValueError as exc:
            result.lineage_error = f"the chatimg chunk is not valid JSON ({exc})"
    result.other_text = {k: v for k, v in text.items() if isinstance(v, str)}
    comment = info.get("comment")  # GIF, JPEG
    if comment:
        result.other_text["comment"] = comment.decode("utf-8", "replace") if isinstance(comment, bytes) else str(comment)
    return result


def describe(provenance: Provenance, name: str) -> str:
    """``chatimg info``'s text: every part that is there, and a plain word when none is."""
    lines = [f"{name}: {provenance.format} {provenance.size[0]}x{provenance.size[1]} {provenance.mode}"]
    if provenance.empty:
        lines.append("no provenance: no parameters, chatimg or XMP chunk (it was not made by chatimg, "
                     "or its metadata was stripped)")
    if provenance.parameters:
        lines += ["", "parameters (AUTOMATIC1111 format):"] + [f"  {line}" for line in provenance.parameters.splitlines()]
    if provenance.lineage_error:
        lines += ["", f"chatimg lineage: {provenance.lineage_error}"]
    if provenance.lineage:
        lines += ["", "chatimg lineage:"] + _describe_lineage(provenance.lineage)
    if provenance.xmp:
        mark = (f"yes, IPTC digital source type {provenance.digital_source_type.rsplit('/', 1)[-1]}"
                if provenance.ai_generated else
                f"not marked ({provenance.digital_source_type or 'no IPTC digital source type'})")
        lines += ["", f"XMP: AI-generated: {mark}"]
    if provenance.other_text:
        lines += ["", "other text chunks:"] + [f"  {k}: {_short(v)}" for k, v in provenance.other_text.items()]
    return "\n".join(lines)


def _short(value: str, limit: int = 200) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[:limit - 1] + "…"


def _describe_lineage(data: dict[str, Any]) -> list[str]:
    edit = data.get("edit") or {}
    models = data.get("models") or {}
    parent = data.get("parent")
    rows = [
        ("session", f"{data.get('session')}  ({data.get('title') or 'untitled'})"),
        ("turn", f"{data.get('turn')}" + ("" if parent is None else f" (after turn {parent})")),
        ("said", data.get("user")),
        ("prompt", edit.get("prompt") or data.get("prompt")),
        ("edit", ", ".join(f"{k} {edit[k]}" for k in ("instruction", "strength", "region", "negative_prompt")
                           if edit.get(k) not in (None, ""))),
        ("reply", edit.get("reply")),
        ("painted", f"{data.get('mode')}, seed {data.get('seed')}, steps {data.get('steps')}, "
                    f"guidance {data.get('guidance')}"),
        ("models", ", ".join(f"{k} {v}" for k, v in models.items() if v)),
        ("source", data.get("source")),
        ("chatimg", data.get("chatimg_version")),
    ]
    lines = [f"  {key:<8} {value}" for key, value in rows if value not in (None, "")]
    history = data.get("history") or []
    if history:
        lines.append(f"  earlier turns on this branch ({len(history)}):")
        for turn in history:
            prompt = (turn.get("edit") or {}).get("prompt", "")
            lines.append(f"    #{turn.get('turn')} {turn.get('user')!r} -> {prompt} [{turn.get('mode')}]")
    return lines
