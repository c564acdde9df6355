"""Parse and repair what a language model wrote into the fields of an ``Edit``.

Small models wander: they echo the request, add "Sure! Here is…", wrap the answer in quotes or
JSON, repeat themselves or stop mid-word. Everything here is deterministic and never raises on
model output; callers get ``None`` (nothing usable) or a cleaned value plus a ``repaired`` flag.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from chatimg.core.model import (
    NAMED_REGIONS,
    STRENGTH_MAX,
    STRENGTH_MIN,
    Edit,
    canonical_region,
    parse_moves,
    split_moves,
)

#: Longest prompt we accept; diffusion text encoders read ~77 tokens anyway.
MAX_PROMPT_CHARS = 400

_LABEL = re.compile(r"^\s*(?:new|updated|full|final|image|rewritten)?\s*(?:image\s+)?prompt\s*[:=\-]\s*", re.I)
_CHATTY = re.compile(
    r"^\s*(?:sure|okay|ok|certainly|of course|here(?:'s| is)|i(?:'m| am| will| can|'ll)|as an ai|sorry|"
    r"unfortunately|the (?:new|updated) prompt is)\b", re.I)
_ECHO = re.compile(r"\b(?:current prompt|request|message|user)\s*:", re.I)
_SPECIAL = re.compile(r"<\|[^|>]*\|>|</?s>|\[/?INST\]")


@dataclass
class ParsedOutput:
    """Fields recovered from raw model text; ``repaired`` is True when anything needed fixing."""

    prompt: str | None = None
    fields: dict = field(default_factory=dict)
    repaired: bool = False


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _dedupe_segments(text: str) -> tuple[str, bool]:
    """Drop repeated comma segments ("a cat, a cat, a cat") that looping models produce."""
    parts = [p.strip() for p in text.split(",")]
    seen: set[str] = set()
    out: list[str] = []
    for part in parts:
        key = part.lower().strip(" .")
        if not key or key in seen:
            continue
        seen.add(key)
        out.append(part)
    result = ", ".join(out)
    return result, result != text


def _find_json(text: str) -> dict | None:
    start = text.find("{")
    if start < 0:
        return None
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                chunk = text[start:i + 1]
                for candidate in (chunk, chunk.replace("'", '"'), re.sub(r",\s*}", "}", chunk)):
                    try:
                        value = json.loads(candidate)
                    except ValueError:
                        continue
                    if isinstance(value, dict):
                        return value
                return None
    # Unterminated object: recover a "prompt" string if there is one.
    match = re.search(r'"prompt"\s*:\s*"([^"]+)', text[start:])
    return {"prompt": match.group(1)} if match else None


def clean_prompt(text: str) -> tuple[str | None, bool]:
    """One prompt line out of free model text: ``(prompt or None, repaired)``."""
    if not isinstance(text, str):
        return None, True
    original = text
    text = _SPECIAL.sub("\n", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    repaired = False
    # Skip chatty lead-ins ("Sure, here is the prompt:") when a real line follows.
    while len(lines) > 1 and (_CHATTY.match(lines[0]) or lines[0].endswith(":")):
        lines.pop(0)
        repaired = True
    if not lines:
        return None, True
    line = lines[0]
    if len(lines) > 1:
        repaired = True
    echo = _ECHO.search(line)
    if echo:
        line = line[:echo.start()]
        repaired = True
    stripped = _LABEL.sub("", line)
    if stripped != line:
        line, repaired = stripped, True
    line = line.strip().strip("`").strip()
    if len(line) >= 2 and line[0] in "\"'“" and line[-1] in "\"'”":
        line, repaired = line[1:-1], True
    line = _collapse(line).rstrip(" ,;:")
    if line.endswith(".") and line.count(".") == 1:
        line = line[:-1]
    line, deduped = _dedupe_segments(line)
    repaired = repaired or deduped
    if len(line) > MAX_PROMPT_CHARS:
        cut = line[:MAX_PROMPT_CHARS]
        line = cut[:cut.rfind(",")] if "," in cut else cut[:cut.rfind(" ")]
        repaired = True
    if not re.search(r"[A-Za-z]{2,}", line) or _CHATTY.match(line):
        return None, True
    return line, repaired or line != _collapse(original)


def parse_output(raw: str) -> ParsedOutput:
    """Parse model text that is either the bare new prompt or a JSON object with Edit fields."""
    if not isinstance(raw, str) or not raw.strip():
        return ParsedOutput(repaired=True)
    if raw.lstrip().startswith("{") or '"prompt"' in raw:
        data = _find_json(raw)
        if data is not None:
            prompt, repaired = clean_prompt(str(data.get("prompt", "")))
            fields = {k: v for k, v in data.items() if k != "prompt"}
            exact = raw.strip().startswith("{") and raw.strip().endswith("}")
            return ParsedOutput(prompt=prompt, fields=fields, repaired=repaired or not exact)
    prompt, repaired = clean_prompt(raw)
    return ParsedOutput(prompt=prompt, repaired=repaired)


def clamp_strength(value: object, default: float) -> tuple[float, bool]:
    """A valid img2img strength from anything a model wrote ("0.7", 70, "high")."""
    words = {"low": 0.35, "small": 0.35, "medium": 0.6, "high": 0.85, "full": 1.0}
    try:
        if isinstance(value, str) and value.strip().lower() in words:
            return words[value.strip().lower()], True
        number = float(str(value).strip().rstrip("%"))
    except (TypeError, ValueError):
        return default, True
    if number != number:  # NaN
        return default, True
    repaired = False
    if 10 < number <= 100:  # a percentage
        number, repaired = number / 100.0, True
    clamped = min(STRENGTH_MAX, max(STRENGTH_MIN, number))
    return clamped, repaired or clamped != number


def clean_region(value: object, prompt: str) -> tuple[str, bool]:
    """``whole``, a named region, a move, or an object named in ``prompt``; anything else becomes whole."""
    if not isinstance(value, str) or not value.strip():
        return "whole", value is not None
    region = _collapse(value.lower()).strip(" .\"'")
    region = canonical_region("background" if region == "backdrop" else region)
    if region in NAMED_REGIONS or parse_moves(region) or split_moves(region):
        return region, False
    words = region.split()
    if 0 < len(words) <= 3 and re.search(rf"\b{re.escape(words[-1])}", prompt.lower()):
        return region, False
    return "whole", True


_DANGLING = re.compile(r"(?:[\s,;:.\-–—…]+|\s+(?:and|or|a|an|the|at|on|in|of|with|to|for|but|by)\b)+$", re.I)


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters (plus "…" when cut): cut at a word boundary, with
    no dangling punctuation or little word ("… and a", "…,") before the ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit + 1]
    cut = cut[:-1] if cut.endswith(" ") else (cut.rsplit(" ", 1)[0] if " " in cut[:limit] else cut[:limit])
    cut = _DANGLING.sub("", cut) or cut
    return cut + "…"


def end_sentence(text: str) -> str:
    """``text`` ending in one full stop, or in the ellipsis it was cut with (never "…."): a reply."""
    text = text.rstrip()
    text = re.sub(r"…[.\s]*$", "…", text)
    return text if text.endswith(("…", ".", "!", "?")) else text + "."


def short_text(value: object, limit: int = 160) -> str:
    if not isinstance(value, str):
        return ""
    text = shorten(_collapse(_SPECIAL.sub(" ", value)), limit)
    return re.sub(r"…\.+$", "…", text)


def make_edit(*, prompt: str, instruction: str = "", strength: object = 0.6, region: object = "whole",
              negative_prompt: str = "", reply: str = "", default_strength: float = 0.6,
              previous_prompt: str | None = None) -> tuple[Edit, bool]:
    """Build a valid ``Edit`` from possibly bad values; ``repaired`` says whether anything was fixed.
    An object region must be named in the new prompt or in ``previous_prompt`` (a removed object)."""
    strength_value, r1 = clamp_strength(strength, default_strength)
    region_value, r2 = clean_region(region, prompt + " " + (previous_prompt or ""))
    edit = Edit(prompt=prompt, instruction=short_text(instruction, 120), strength=strength_value,
                region=region_value, negative_prompt=short_text(negative_prompt, 200),
                reply=short_text(reply, 160))
    return edit, r1 or r2
