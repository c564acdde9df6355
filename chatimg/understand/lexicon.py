"""The few words the typed understander needs: counts, materials and noun inflection."""

from __future__ import annotations

NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
           "ten": 10, "eleven": 11, "twelve": 12, "a": 1, "an": 1, "a single": 1, "single": 1, "a pair of": 2,
           "a couple of": 2, "both": 2}
#: Words that say "more than one" without a number.
QUANTIFIERS = ("a few", "a couple of", "a pair of", "a group of", "a bunch of", "lots of", "a lot of", "some", "several",
               "many", "multiple", "numerous", "countless", "dozens of")

MATERIALS = {"wooden", "wood", "metal", "metallic", "steel", "iron", "brass", "copper", "bronze", "gold", "golden",
             "silver", "plastic", "glass", "marble", "stone", "granite", "concrete", "brick", "leather", "fabric",
             "velvet", "silk", "cotton", "wool", "woollen", "woolen", "wicker", "rattan", "bamboo", "rubber", "ceramic",
             "porcelain", "clay", "paper", "cardboard", "crystal", "ice", "chrome", "aluminum", "aluminium", "denim"}

_IRREGULAR = {"person": "people", "child": "children", "man": "men", "woman": "women", "mouse": "mice",
              "goose": "geese", "foot": "feet", "tooth": "teeth", "sheep": "sheep", "fish": "fish", "deer": "deer",
              "knife": "knives", "leaf": "leaves", "wolf": "wolves", "shelf": "shelves", "loaf": "loaves"}
_SINGULAR = {plural: single for single, plural in _IRREGULAR.items()}


def number_of(word: str) -> int | None:
    word = word.lower().strip()
    return int(word) if word.isdigit() else NUMBERS.get(word)


def plural(noun: str) -> str:
    lower = noun.lower()
    if lower in _IRREGULAR:
        return _IRREGULAR[lower]
    if lower in _SINGULAR or (lower.endswith("s") and not lower.endswith(("ss", "us", "is"))):
        return noun
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def singular(noun: str) -> str:
    lower = noun.lower()
    if lower in _SINGULAR:
        return _SINGULAR[lower]
    if lower.endswith("ies") and len(lower) > 4:
        return noun[:-3] + "y"
    if lower.endswith(("ches", "shes", "xes", "sses", "zes")):
        return noun[:-2]
    if lower.endswith("s") and not lower.endswith(("ss", "us", "is")):
        return noun[:-1]
    return noun

COLOURS = {"red", "orange", "yellow", "green", "blue", "purple", "violet", "pink", "brown", "black", "white", "grey",
           "gray", "beige", "teal", "turquoise", "cyan", "magenta", "maroon", "navy", "olive", "lime", "gold", "silver",
           "cream", "ivory", "lavender", "lilac", "indigo", "crimson", "scarlet", "burgundy", "tan", "khaki", "coral",
           "peach", "mint", "aqua", "azure", "emerald", "amber", "charcoal", "mauve", "rust", "ochre", "salmon"}
#: Words that shade a colour ("pastel pink", "dark blue").
SHADES = {"pastel", "light", "dark", "pale", "deep", "bright", "neon", "dusty", "soft", "vivid", "muted", "hot",
          "baby", "sky", "royal", "forest", "navy", "olive", "metallic"}


def is_colour(phrase: str) -> bool:
    """"pink", "pastel pink", "dark blue-green": shades, then colour names."""
    words = phrase.lower().replace("-", " ").split()
    return bool(words) and words[-1] in COLOURS and all(w in COLOURS or w in SHADES or w == "and" for w in words)

#: Places one is *on*, not *in* ("on a beach", "in a park").
ON_PLACES = {"beach", "shore", "coast", "field", "hill", "hillside", "mountain", "mountaintop", "lake", "river", "sea",
             "ocean", "street", "road", "rooftop", "roof", "island", "meadow", "lawn", "grass", "moon", "mars", "stage",
             "bridge", "boat", "ship", "train", "pier", "dock", "farm", "plain", "glacier", "cliff", "runway", "track"}
