"""Edit instructions read into ops against the current prompt: counts, "the colour/material of X
to Y", a new background, and a trailing "keep X unchanged".

These are the phrasings of multi-turn editing instruction sets ("Change the count of the cups to
3", "Change the background to a park, keep the bear unchanged") and of people correcting a count
("actually just one duck"). The ops name the prompt's own phrase, so ``apply`` rewrites it in
place instead of appending a second description beside the first.
"""

from __future__ import annotations

import re

from chatimg.core.ops import Add, EditOp, Recolour, Replace, SetBackground
from chatimg.understand.lexicon import MATERIALS, NUMBERS, QUANTIFIERS, is_colour, number_of, plural, singular

_NUM = r"(?:\d{1,3}|" + "|".join(sorted((re.escape(w) for w in NUMBERS), key=len, reverse=True)) + ")"
_KEEP = re.compile(r"(?:[,;.]\s*|\s+)(?:and\s+|but\s+|while\s+|then\s+)?(?:please\s+)?(?:keep|leave)\s+(?P<x>.+?)\s+"
                   r"(?:unchanged|the same|as it is|as is|as they are|intact|untouched|alone|as before)\s*[.!]?$", re.I)
_OF = re.compile(r"^(?:please\s+)?(?:change|make|set|turn|switch|alter|adjust)\s+the\s+(?P<a>colou?r|material|texture|"
                 r"finish|count|number|amount|quantity)\s+of\s+(?P<x>.+?)\s+(?:to|into|to be)\s+(?P<y>.+?)[.!]?$", re.I)
_BACKGROUND = re.compile(r"^(?:please\s+)?(?:change|set|make|turn|switch|replace)\s+the\s+(?:background|backdrop|"
                         r"setting|scenery)\s+(?:to|into|with|be|for)?\s*(?P<y>.+?)[.!]?$", re.I)
_COUNTS = [re.compile(p, re.I) for p in (
    rf"^(?:actually,?\s+|no,?\s+|oh,?\s+)?(?:make\s+(?:it|that|them)\s+)?(?:just|only)\s+(?P<n>{_NUM})\s+(?P<x>[\w' -]+?)"
    r"(?:\s+instead)?(?:\s+please)?[.!]?$",
    rf"^there should (?:only )?be\s+(?:just\s+|only\s+)?(?P<n>{_NUM})\s+(?P<x>[\w' -]+?)(?:\s+instead)?[.!]?$",
    r"^(?:please\s+)?(?:make|have)\s+(?:the\s+)?(?P<x>[\w' -]+?)\s+(?P<n>\d{1,3}|two|three|four|five|six|seven|"
    r"eight|nine|ten|eleven|twelve)[.!]?$",
    r"^(?:make it|i want|give me|let'?s have|show)\s+(?P<n>\d{1,3}|two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve)\s+(?P<x>[\w' -]+?)(?:\s+instead)?[.!]?$",
)]
_MAKE = re.compile(r"^(?:please\s+)?(?:make|turn|paint|change)\s+(?P<x>(?:the|that|this|those|these)\s+[\w' -]+?)\s+"
                   r"(?:into\s+|to\s+)?(?P<y>[\w-]+)$", re.I)
_MAKE_SHADE = re.compile(r"^(?:please\s+)?(?:make|turn|paint|change)\s+(?P<x>(?:the|that|this|those|these)\s+[\w' -]+?)\s+"
                         r"(?:into\s+|to\s+)?(?P<y>[\w-]+\s+[\w-]+)$", re.I)
_MAKE_IT = re.compile(r"^(?:now\s+|then\s+|and\s+|ok\s+|okay\s+)*(?:please\s+)?(?:make|turn|paint|colou?r|change)\s+"
                      r"(?:it|him|her)\s+(?:to\s+|into\s+)?(?P<y>[\w-]+(?:\s+[\w-]+)?)(?:\s+instead)?(?:\s+please)?$", re.I)
_CHANGE_TO = re.compile(r"^(?:please\s+)?(?:change|turn|switch|swap|replace|make)\s+(?P<x>(?:the|that|those|these|this)\s+"
                        r"[\w' -]+?)\s+(?:to|into|for|with)\s+(?P<y>[\w' -]+?)(?:\s+instead)?$", re.I)
_ONE_LESS = re.compile(r"^(?:please\s+)?(?:remove|delete|take away|take out|get rid of|drop)\s+(?:just\s+)?(?:one|a single)\s+"
                       r"(?:of\s+the\s+)?(?P<x>[\w' -]+?)$", re.I)
_ONE_MORE = re.compile(r"^(?:please\s+)?(?:add|put|draw|give me)\s+(?:one|1)\s+more\s+(?P<x>[\w' -]+?)$", re.I)
_WANT_ALSO = re.compile(r"^(?:(?:ok|okay|hmm+|and|also|now),?\s+)*(?:i'?d like|i would like|i want|can we have|could we have|"
                        r"let'?s have|can you add|could you add|please add|can we get|i'?d love)\s+"
                        r"(?P<x>(?:a|an|some|two|three|four|a few|a couple of)\s+[\w' -]+?)"
                        r"(?:\s+(?:in there|in it|in the picture|in the scene|there)(?:\s+(?:too|as well|also))?|"
                        r"\s+(?:too|as well|also))$", re.I)
_GIVE = re.compile(r"^(?:(?:now|ok|okay|and),?\s+)*(?:please\s+)?(?:give|make)\s+(?:him|her|it|them|the\s+[\w-]+)\s+"
                   r"(?P<y>(?:a\s+|an\s+|some\s+)?(?:[\w-]+\s+){0,3}[\w-]+)$", re.I)
_DETERMINER = re.compile(r"^(?:the|a|an|some|all|all the|those|these|that|this)\s+", re.I)
_STOP = ("with|and|or|on|in|at|of|to|by|from|for|near|next|under|over|behind|beside|holding|wearing|carrying|"
         "sitting|standing|lying|the|a|an|is|are|its|his|her|their|it")


def strip_keep(message: str) -> tuple[str, str]:
    """(the request, what it says to keep): "change the background to a park, keep the bear
    unchanged" -> ("change the background to a park", "the bear"). The rest is kept anyway."""
    match = _KEEP.search(message)
    if match is None or not message[:match.start()].strip():
        return message, ""
    return message[:match.start()].strip(" ,;."), match["x"]


def _noun_phrase(prompt: str, thing: str) -> re.Match | None:
    """The prompt's phrase for ``thing`` (its head noun, singular or plural): quantity or article,
    up to three modifiers, the noun."""
    words = _DETERMINER.sub("", thing.strip()).split()
    if not words:
        return None
    head = words[-1]
    forms = {head.lower(), singular(head).lower(), plural(singular(head)).lower()}
    quantity = "|".join([r"\d{1,3}"] + [re.escape(w) for w in sorted(set(NUMBERS) | set(QUANTIFIERS) | {"the"},
                                                                       key=len, reverse=True)])
    nouns = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    pattern = (rf"(?:\b(?P<q>{quantity})\s+)?\b(?P<mods>(?:(?!(?:{_STOP})\b)[\w'-]+\s+){{0,3}}?)"
               rf"(?P<noun>\b(?:{nouns}))\b")
    return re.search(pattern, prompt, re.I)


def _count(prompt: str, thing: str, number: str) -> list[EditOp] | None:
    n = number_of(number)
    found = _noun_phrase(prompt, thing)
    if n is None or found is None:
        return None
    noun = found["noun"]
    noun = plural(singular(noun)) if n != 1 else singular(noun)
    said = number if number.isdigit() or number.lower() not in ("a", "an", "single", "a single") else "one"
    new = f"{said} {found['mods']}{noun}"
    old = found.group(0)
    if found["q"] and number_of(found["q"]) == n:
        return []
    return [Replace(old=old, new=new)]


def _material(prompt: str, thing: str, value: str) -> list[EditOp] | None:
    found = _noun_phrase(prompt, thing)
    if found is None:
        return None
    said = {w.lower() for w in _DETERMINER.sub("", thing).split()[:-1]}
    mods = [w for w in found["mods"].split() if w.lower() not in MATERIALS and w.lower() not in said]
    value = _DETERMINER.sub("", value.strip())
    value = re.sub(r"\s+(?:one|ones)$", "", value)
    quantity = f"{found['q']} " if found["q"] else ""
    new = f"{quantity}{' '.join(mods + [value, found['noun']])}"
    if quantity.strip().lower() in ("a", "an"):
        new = ("an " if value[:1].lower() in "aeiou" else "a ") + new[len(quantity):]
    return [Replace(old=found.group(0), new=new)]


def understand(prompt: str, message: str, *, it_is_subject: bool = True) -> list[EditOp] | None:
    """The ops for ``message`` when it is one of these instructions, else None (an empty list: it
    is one, and the prompt already says so). ``it_is_subject``: "it" means the picture's subject
    (not so right after an add, when it is the thing just added)."""
    text = " ".join(message.split()).rstrip(" .!")
    if match := _OF.match(text):
        attribute, thing, value = match["a"].lower(), match["x"], match["y"]
        if attribute in ("count", "number", "amount", "quantity"):
            return _count(prompt, thing, value.split()[0])
        if attribute in ("color", "colour"):
            return [Recolour(target=_DETERMINER.sub("", thing), colour=value)] if _noun_phrase(prompt, thing) else None
        return _material(prompt, thing, value)
    if match := _BACKGROUND.match(text):
        return [SetBackground(value=match["y"])]
    if (match := _MAKE.match(text)) and match["y"].lower() in MATERIALS and _noun_phrase(prompt, match["x"]):
        return _material(prompt, match["x"], match["y"])
    if (match := _MAKE_SHADE.match(text)) and is_colour(match["y"]) and _noun_phrase(prompt, match["x"]):
        return [Recolour(target=_DETERMINER.sub("", match["x"]), colour=match["y"])]  # "pastel pink"
    if it_is_subject and (match := _MAKE_IT.match(text)) and is_colour(match["y"]):
        from chatimg.understand.rules.general import _subject

        subject = _subject(prompt)  # "it" is the picture's subject: "make it red" recolours the car
        subject = re.sub(r"(?:\s+\w+ed)+$", "", subject or "")  # "a car parked": the car
        return [Recolour(target=_DETERMINER.sub("", subject), colour=match["y"])] if subject else None
    if (match := _GIVE.match(text)) and len(match["y"].split()) >= 2 and (found := _noun_phrase(prompt, match["y"])):
        old = found.group(0)  # "give her long red hair" over "short black hair": the new look, not a second one
        new = match["y"] if not found["q"] or _DETERMINER.match(match["y"]) else f"{found['q']} {match['y']}"
        return [] if old.lower() == new.lower() else [Replace(old=old, new=new)]
    if match := _WANT_ALSO.match(text):  # "I'd like a ferry in there too": a new thing, not a style
        return [Add(thing=match["x"])]
    if (match := _ONE_LESS.match(text) or _ONE_MORE.match(text)) and (found := _noun_phrase(prompt, match["x"])):
        have = number_of(found["q"] or "one") if found["q"] and found["q"].lower() != "the" else None
        if have is not None:  # "remove one cat" from three cats: two cats, not none
            n = have + (1 if match.re is _ONE_MORE else -1)
            words = {v: k for k, v in NUMBERS.items() if " " not in k and k not in ("a", "an", "single", "both")}
            return _count(prompt, match["x"], words.get(n, str(n))) if n >= 1 else None
    if (match := _CHANGE_TO.match(text)) and (found := _noun_phrase(prompt, match["x"])) and _names_a_thing(match["y"]):
        return [Replace(old=found.group(0), new=_as_replacement(found, match["y"]))]
    for pattern in _COUNTS:
        if match := pattern.match(text):
            return _count(prompt, match["x"], match["n"])
    return None


def _names_a_thing(value: str) -> bool:
    """"oranges", "a panda", "a metal bench": a thing, not a colour or a quality ("stormy", "red")."""
    words = value.lower().split()
    if not words or is_colour(value) or words[-1] in ("one", "ones") or words[-1] in MATERIALS:
        return False
    return words[0] in ("a", "an", "some") or (words[-1].endswith("s") and not words[-1].endswith(("ss", "ous")))


def _as_replacement(found: re.Match, value: str) -> str:
    """``value`` said the way the old phrase was counted: "three roses" -> "three tulips"."""
    value = value.strip()
    quantity = (found["q"] or "").lower()
    if _DETERMINER.match(value) or not quantity:
        return value
    if quantity == "the":
        return f"the {value}"
    if quantity in ("a", "an"):
        return ("an " if value[:1].lower() in "aeiou" else "a ") + value
    return f"{found['q']} {value}"
