"""Deterministic understanding of common edit requests on free-form prompts.

A 135M-parameter model cannot reliably copy a prompt while changing one thing, so the
rewriter first tries these rules. They cover the edit families people use most — add,
remove, replace, recolour, style, time of day, weather, season, lighting, mood and
"start over" — phrased in many ways, and they work on the prompt as comma-separated
phrases. When a request fits none of them, ``apply_rules`` returns ``None`` and the LLM
answers instead; the same analysis also checks an LLM's prompt (``check_prompt``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# ----------------------------------------------------------------------------- lexicons
COLOUR_WORDS = {
    "red", "orange", "yellow", "green", "blue", "purple", "white", "black", "pink", "brown", "grey", "gray",
    "gold", "golden", "silver", "teal", "cyan", "magenta", "beige", "turquoise", "navy", "maroon", "violet",
    "crimson", "scarlet", "emerald", "lime", "amber", "indigo", "lavender", "ivory", "bronze", "copper",
    "olive", "peach", "coral", "mint", "rainbow", "blond", "blonde", "ginger", "multicolored", "colorful",
}

#: Scene-wide settings: category -> term -> phrase added to the prompt.
CATEGORIES: dict[str, dict[str, str]] = {
    "time": {
        "night": "at night", "nighttime": "at night", "night time": "at night", "midnight": "at midnight",
        "sunset": "at sunset", "sundown": "at sunset", "sunrise": "at sunrise", "dawn": "at dawn",
        "dusk": "at dusk", "twilight": "at twilight", "golden hour": "at golden hour", "morning": "in the morning",
        "noon": "at noon", "midday": "at midday", "early morning": "in the early morning",
        "late afternoon": "in the late afternoon", "late evening": "late in the evening", "night-time": "at night",
        "nightfall": "at nightfall", "daybreak": "at daybreak", "high noon": "at noon", "day-time": "during the day",
        "starry night": "on a starry night", "starry": "under a starry sky", "afternoon": "in the afternoon", "evening": "in the evening",
        "day": "during the day", "daytime": "during the day", "daylight": "in daylight", "blue hour": "at blue hour",
    },
    "weather": {
        "rain": "in the rain", "rainy": "rainy", "rainier": "rainy", "foggier": "foggy", "snowier": "snowy",
        "thick fog": "in thick fog", "heavy rain": "in heavy rain", "drizzle": "in light drizzle",
        "blizzard": "in a blizzard", "falling snow": "in falling snow", "sandstorm": "in a sandstorm",
        "hail": "in a hailstorm", "rainbow": "with a rainbow", "clear": "under a clear sky",
        "clear skies": "under a clear sky", "stormier": "stormy", "sunnier": "sunny", "raining": "in the rain", "snow": "in the snow", "snowy": "snowy",
        "snowing": "in falling snow", "fog": "in fog", "foggy": "foggy", "mist": "in mist", "misty": "misty",
        "storm": "in a storm", "stormy": "stormy", "thunderstorm": "in a thunderstorm", "sunny": "sunny",
        "cloudy": "cloudy", "overcast": "overcast", "clear sky": "under a clear sky", "windy": "windy",
        "hazy": "hazy", "lightning": "with lightning",
    },
    "season": {
        "winter": "in winter", "summer": "in summer", "spring": "in spring", "springtime": "in spring",
        "autumn": "in autumn", "fall": "in autumn", "wintertime": "in winter", "autumnal": "in autumn", "summery": "in summer",
        "summertime": "in summer",
    },
    "lighting": {
        "hdr": "HDR lighting", "high dynamic range": "HDR lighting",
        "moody light": "moody lighting", "moody lighting": "moody lighting", "moody dramatic light": "moody dramatic lighting",
        "candlelight": "lit by candlelight", "candle light": "lit by candlelight", "moonlight": "in moonlight",
        "moonlit": "moonlit", "neon": "neon lighting", "neon lights": "neon lighting", "backlit": "backlit",
        "dramatic lighting": "dramatic lighting", "dramatic light": "dramatic lighting", "dramatic": "dramatic lighting",
        "soft": "soft diffused light", "gentle light": "soft diffused light", "high contrast": "high-contrast lighting", "soft lighting": "soft lighting",
        "studio lighting": "studio lighting", "warm light": "warm lighting", "warm lighting": "warm lighting",
        "cold light": "cold lighting", "rim light": "rim lighting", "sunlight": "in sunlight", "sunlit": "sunlit",
        "dark": "dark", "darker": "dark", "bright": "bright", "brighter": "bright", "dim": "dimly lit",
        "dimmer": "dimly lit", "firelight": "lit by firelight", "spotlight": "spotlight",
        "backlighting": "strong backlighting", "backlight": "strong backlighting", "back-lit": "backlit",
        "rim lighting": "rim lighting", "silhouette": "silhouetted", "soft diffused light": "soft diffused light",
        "diffused light": "soft diffused light", "soft light": "soft diffused light", "harsh light": "harsh light",
        "golden light": "golden light", "candlelit": "lit by candlelight", "candles": "lit by candlelight",
        "volumetric light": "volumetric light", "god rays": "god rays", "studio light": "studio lighting",
        "natural light": "natural light", "hard light": "harsh light", "low key": "low-key lighting",
        "high key": "high-key lighting", "chiaroscuro": "chiaroscuro lighting", "glowing": "glowing light",
        "lamplight": "lamplight", "brighten": "bright lighting", "lighten": "bright lighting", "darken": "dark",
        "too dark": "bright lighting", "too bright": "dark", "saturated": "saturated colors", "warm colors": "warm colors", "warm colours": "warm colors", "cool colors": "cool colors", "cool tones": "cool tones", "warm tones": "warm tones", "cool blue tones": "cool blue tones",
        "teal and orange": "teal and orange color grading",
        "more saturated": "saturated colors", "desaturated": "desaturated colors", "muted": "muted colors", "fluorescent": "fluorescent lighting", "sunbeams": "sunbeams",
    },
    "style": {
        "watercolor": "watercolor painting", "watercolour": "watercolor painting", "oil painting": "oil painting",
        "oil": "oil painting", "acrylic": "acrylic painting", "pencil": "pencil sketch", "pencil sketch": "pencil sketch",
        "sketch": "pencil sketch", "charcoal": "charcoal drawing", "ink": "ink drawing", "pastel": "pastel drawing",
        "anime": "anime style", "manga": "manga style", "cartoon": "cartoon style", "comic": "comic book style",
        "comic book": "comic book style", "pixel art": "pixel art", "pixel": "pixel art", "8-bit": "8-bit pixel art",
        "3d render": "3d render", "3d": "3d render", "render": "3d render", "cgi": "3d render",
        "photo": "photo", "photograph": "photo", "photorealistic": "photorealistic", "realistic": "photorealistic",
        "photo-realistic": "photorealistic", "digital art": "digital art", "digital painting": "digital painting",
        "impressionist": "impressionist painting", "impressionism": "impressionist painting",
        "cubist": "cubist painting", "cubism": "cubist painting", "surreal": "surrealist painting",
        "surrealist": "surrealist painting", "pop art": "pop art", "art nouveau": "art nouveau",
        "art deco": "art deco", "ukiyo-e": "ukiyo-e woodblock print", "woodblock": "woodblock print",
        "low poly": "low poly 3d render", "claymation": "claymation", "clay": "claymation",
        "vector": "flat vector illustration", "flat": "flat illustration", "minimalist": "minimalist",
        "illustration": "illustration", "painting": "painting", "drawing": "drawing", "crayon": "crayon drawing",
        "stained glass": "stained glass", "mosaic": "mosaic", "origami": "origami", "lego": "lego",
        "cinematic": "cinematic", "film noir": "film noir", "noir": "film noir", "vintage": "vintage photo", "old photograph": "vintage photo", "old photo": "vintage photo",
        "old film photo": "vintage photo", "old film": "vintage photo", "old master": "old master painting",
        "old masters": "old master painting",
        "retro": "retro style", "black and white": "black and white", "monochrome": "monochrome",
        "sepia": "sepia", "polaroid": "polaroid photo", "studio ghibli": "studio ghibli style",
        "ghibli": "studio ghibli style", "pixar": "pixar style 3d render", "disney": "disney style",
        "van gogh": "in the style of van gogh", "monet": "in the style of monet", "picasso": "in the style of picasso",
        "cyberpunk": "cyberpunk style", "steampunk": "steampunk style", "fantasy": "fantasy art",
        "sci-fi": "sci-fi", "gothic": "gothic", "graffiti": "graffiti art", "tattoo": "tattoo design",
        "line art": "line art", "drawn by a child": "child's crayon drawing", "child's drawing": "child's crayon drawing",
        "kid's drawing": "child's crayon drawing", "children's book": "children's book illustration",
        "storybook": "storybook illustration", "concept art": "concept art", "matte painting": "matte painting",
        "80s": "1980s retro style", "1980s": "1980s retro style", "70s": "1970s style", "synthwave": "synthwave style",
        "vaporwave": "vaporwave style", "hand-drawn": "hand-drawn illustration", "cel shaded": "cel shaded", "chalk": "chalk drawing", "embroidery": "embroidery", "sculpture": "marble sculpture",
        "marble": "marble sculpture", "isometric": "isometric", "blueprint": "blueprint",
        "gouache": "gouache painting", "chibi": "chibi style", "tempera": "tempera painting", "pastels": "pastel drawing", "woodcut": "woodcut print",
        "linocut": "linocut print", "screen print": "screen print", "art brut": "art brut",
        "expressionism": "expressionist painting", "pointillism": "pointillist painting", "lofi": "lo-fi illustration", "lo-fi": "lo-fi illustration",
        "octane render": "octane render", "unreal engine": "unreal engine render", "c4d": "3d render",
        "product photography": "product photography", "product photo": "product photography", "film photo": "analog film photo", "analog film": "analog film photo", "35mm film": "35mm film photo", "kodak portra": "kodak portra film photo",
        "disposable camera": "disposable camera photo", "film photography": "analog film photo", "instax": "instax photo",
        "coloring book": "coloring book line art", "colouring book": "coloring book line art", "line drawing": "line art", "movie poster": "movie poster",
        "vermeer": "in the style of vermeer", "rembrandt": "in the style of rembrandt", "cezanne": "in the style of cezanne",
        "dali": "in the style of salvador dali", "salvador dali": "in the style of salvador dali", "warhol": "in the style of andy warhol",
        "andy warhol": "in the style of andy warhol", "klimt": "in the style of gustav klimt", "hokusai": "in the style of hokusai",
        "caravaggio": "in the style of caravaggio", "da vinci": "in the style of leonardo da vinci", "leonardo da vinci": "in the style of leonardo da vinci",
        "michelangelo": "in the style of michelangelo", "kandinsky": "in the style of kandinsky", "mondrian": "in the style of mondrian",
        "pollock": "in the style of jackson pollock", "matisse": "in the style of matisse", "edward hopper": "in the style of edward hopper",
        "frida kahlo": "in the style of frida kahlo", "kahlo": "in the style of frida kahlo", "banksy": "in the style of banksy",
        "miyazaki": "studio ghibli style", "tim burton": "in the style of tim burton", "wes anderson": "in the style of wes anderson",
        "moebius": "in the style of moebius", "mucha": "in the style of alphonse mucha", "escher": "in the style of m. c. escher",
        "magritte": "in the style of magritte", "seurat": "in the style of seurat", "renoir": "in the style of renoir",
        "goya": "in the style of goya", "botticelli": "in the style of botticelli", "bob ross": "in the style of bob ross",
        "norman rockwell": "in the style of norman rockwell", "rockwell": "in the style of norman rockwell",
        **{f"{d}s": f"{d}s style" for d in range(1900, 2010, 10) if d not in (1980, 1970)},
        **{f"{d % 100:02d}s": f"19{d % 100:02d}s style" for d in (1920, 1930, 1940, 1950, 1960, 1990)},
        "1970s": "1970s style",
        # "like a 1970s photo", "a 50s photograph": a photo of that time
        **{f"{era}s {photo}": f"{d}s vintage photo" for d in range(1920, 2000, 10)
           for era in (str(d), f"{d % 100:02d}") for photo in ("photo", "photograph", "picture")},
    },
    "camera": {
        "bird's-eye view": "bird's-eye view", "birds-eye view": "bird's-eye view", "bird's eye view": "bird's-eye view",
        "bird's-eye": "bird's-eye view", "aerial view": "aerial view", "aerial": "aerial view", "from above": "seen from above",
        "top-down": "top-down view", "top down": "top-down view", "overhead": "overhead view", "drone shot": "aerial drone shot",
        "worm's-eye view": "worm's-eye view, low angle", "worm's eye view": "worm's-eye view, low angle",
        "worm's-eye": "worm's-eye view, low angle", "low angle": "low angle shot", "low-angle": "low angle shot",
        "from below": "seen from below", "high angle": "high angle shot", "close-up": "close-up shot",
        "closeup": "close-up shot", "close up": "close-up shot", "macro": "macro shot", "wide shot": "wide shot",
        "wide angle": "wide-angle shot", "wide-angle": "wide-angle shot", "panorama": "panoramic view",
        "panoramic": "panoramic view", "portrait shot": "portrait shot", "full body": "full body shot",
        "fisheye": "fisheye lens", "side view": "side view", "front view": "front view", "zoom in": "close-up shot",
        "zoomed in": "close-up shot", "zoom out": "wide shot", "zoomed out": "wide shot", "long shot": "long shot",
        "medium shot": "medium shot", "eye level": "eye-level shot",
        "birds eye view": "bird's-eye view", "birds eye": "bird's-eye view", "bird eye view": "bird's-eye view",
        "bokeh": "bokeh", "blurry background": "blurred background",
        "blurred background": "blurred background", "background blur": "blurred background",
        "blurry bg": "blurred background", "shallow depth of field": "shallow depth of field",
        "shallow dof": "shallow depth of field", "depth of field": "shallow depth of field", "portrait mode": "bokeh",
        "tilt shift": "tilt-shift photo", "tilt-shift": "tilt-shift photo", "telephoto": "telephoto lens",
        "telephoto lens": "telephoto lens", "35mm": "35mm lens", "35mm lens": "35mm lens", "50mm": "50mm lens",
        "50mm lens": "50mm lens", "85mm": "85mm portrait lens", "85mm lens": "85mm portrait lens", "long exposure": "long exposure",
        "street level": "street-level view", "ground level": "ground-level view", "from the side": "side view",
        "top view": "top-down view", "profile view": "side view", "candid": "candid shot", "candid shot": "candid shot", "dutch angle": "dutch angle", "over the shoulder": "over-the-shoulder shot",
    },
    "mood": {
        "creepier": "creepy", "spookier": "spooky", "scarier": "scary", "happier": "cheerful", "sadder": "melancholic",
        "gloomier": "gloomy", "calmer": "calm", "cozier": "cozy", "cosier": "cozy", "dreamier": "dreamy",
        "more peaceful": "peaceful", "melancholy": "melancholic", "joyful": "joyful", "haunting": "haunting",
        "sinister": "sinister", "tense": "tense", "nostalgic": "nostalgic", "serene": "serene", "tranquil": "tranquil",
        "lonely": "lonely", "somber": "somber", "sombre": "somber", "bleak": "bleak", "menacing": "menacing",
        "spooky": "spooky", "creepy": "creepy", "scary": "scary", "eerie": "eerie", "cozy": "cozy", "cosy": "cozy",
        "cheerful": "cheerful", "happy": "cheerful", "gloomy": "gloomy", "sad": "melancholic",
        "melancholic": "melancholic", "peaceful": "peaceful", "calm": "calm", "dreamy": "dreamy",
        "magical": "magical", "mysterious": "mysterious", "romantic": "romantic", "epic": "epic",
        "vibrant": "vibrant colors", "colorful": "colorful", "colourful": "colorful", "pastel colors": "pastel colors",
        "moody": "moody", "whimsical": "whimsical", "festive": "festive", "ominous": "ominous", "hygge": "cozy", "cosy vibes": "cozy", "cozy vibes": "cozy", "halloweeny": "halloween themed", "creepy vibes": "creepy", "dark and moody": "moody",
    },
}
#: Categories where the new value replaces the old one (a scene is not both day and night).
EXCLUSIVE = {"time", "season", "style", "weather", "lighting", "mood", "camera"}
_FAIR = ("sunny", "clear sky")
#: Season/weather values and the prompt words that contradict them ("a snowy forest ... in summer").
#: Kept deliberately small and unambiguous: only words that cannot be true together with the value.
_SNOW_WORDS = ("snow-covered", "snow covered", "snowcapped", "snow-capped", "snowy", "icy", "wintry", "wintery",
               "frozen", "frosty", "in falling snow", "in the snow", "in a blizzard", "blizzard", "snowing", "snowfall")
_GREEN_WORDS = ("leafy", "lush", "blooming", "flowering", "in bloom", "sunbathing")
CONTRADICTIONS: dict[str, tuple[str, ...]] = {
    "in summer": _SNOW_WORDS,
    "in spring": _SNOW_WORDS,
    "in winter": _GREEN_WORDS + ("in summer", "summery", "tropical"),
    "snowy": ("in summer", "in spring", "summery", "sunbathing"),
    "in the snow": ("in summer", "in spring", "summery", "sunbathing"),
    "in falling snow": ("in summer", "in spring", "summery", "sunbathing"),
    "in a blizzard": ("in summer", "in spring", "summery", "sunbathing"),
}

# Time of day and weather are separate slots, but some values cannot be true together: sun and
# night ("make it sunny" on a night scene), sun and sunset, the moon and stars in daytime.
_SUN_WORDS = ("sunny", "on a sunny day", "sunlit", "sunshine", "in bright sunshine", "bright sunshine", "sun-drenched",
              "sun drenched", "sunbathed", "midday sun", "in the midday sun", "blazing sun", "under a blazing sun")
_NIGHT_WORDS = ("at night", "at midnight", "on a starry night", "under a starry sky", "at nightfall", "nighttime",
                "night time", "late in the evening", "with a full moon", "under a full moon", "a full moon", "full moon",
                "moonlit", "in the moonlight", "by moonlight", "moonlight", "starry sky", "starry", "with stars",
                "under the stars", "stars")
_LOW_SUN = ("at sunset", "at dusk", "at twilight", "at blue hour", "at sunrise", "at dawn", "at daybreak", "at golden hour")
_NIGHT_TIMES = ("at night", "at midnight", "on a starry night", "under a starry sky", "at nightfall", "late in the evening")
_DAY_TIMES = ("during the day", "in daylight", "at noon", "at midday", "in the morning", "in the early morning",
              "in the afternoon", "in the late afternoon")
_WET = ("in the rain", "rainy", "in heavy rain", "in light drizzle", "in a storm", "stormy", "in a thunderstorm",
        "cloudy", "overcast", "in fog", "foggy", "in thick fog", "in mist", "misty", "in falling snow", "in the snow",
        "in a blizzard", "in a hailstorm", "with lightning")
for _phrase in _NIGHT_TIMES:
    CONTRADICTIONS[_phrase] = _SUN_WORDS
for _phrase in _LOW_SUN:
    CONTRADICTIONS[_phrase] = _SUN_WORDS
for _phrase in _DAY_TIMES:
    CONTRADICTIONS[_phrase] = _NIGHT_WORDS
for _phrase in ("sunny", "in bright sunshine", "under a clear sky"):
    CONTRADICTIONS[_phrase] = _NIGHT_WORDS + (_LOW_SUN if _phrase == "sunny" else ()) if _phrase != "under a clear sky" else ()
for _phrase in _WET:
    CONTRADICTIONS[_phrase] = CONTRADICTIONS.get(_phrase, ()) + _SUN_WORDS
_DANGLING_DAY = re.compile(r"\s*\b(?:on|in|during)\s+an?\s+(?:day|night|evening|morning|afternoon)\b(?=\s*(?:$|,))", re.I)


def drop_contradictions(prompt: str, phrase: str) -> tuple[str, list[str]]:
    """Remove from ``prompt`` the words that contradict the new season/weather ``phrase``
    (see ``CONTRADICTIONS``): "a cabin in a snowy forest" + "in summer" -> "a cabin in a forest".
    Returns (prompt, words dropped)."""
    dropped: list[str] = []
    segments = []
    for seg in _segments(prompt):
        new = seg
        for word in sorted(CONTRADICTIONS.get(phrase.lower(), ()), key=len, reverse=True):
            pattern = rf"(?<![\w'-]){re.escape(word)}(?![\w'-])"
            if re.search(pattern, new, re.I):
                dropped.append(word)
                new = re.sub(rf"\s*{pattern}", "", new, flags=re.I)
        new = _DANGLING_DAY.sub("", new) if new != seg else new
        if new == seg:
            segments.append(seg)
            continue
        new = re.sub(r"\b(a)\s+(?=[aeiou])", "an ", new)
        new = re.sub(r"\b(an)\s+(?=[^aeiou\W])", "a ", new)
        new = _clean(re.sub(r"\s+(?:in|at|on|with|and|of|during|under|a|an|the)$", "", _clean(new)))
        if new and not re.fullmatch(r"(?:in|at|on|during|with|the|a|an|of|and)(?:\s+(?:in|at|on|the|a|an))*", new, re.I):
            segments.append(new)
    return (_join(segments) if dropped else prompt), dropped


_TERMS = sorted(((term, cat) for cat, terms in CATEGORIES.items() for term in terms), key=lambda x: -len(x[0]))

_DETERMINERS = r"(?:the|a|an|some|any|all|all the|those|these|that|this|his|her|their|its|my|one|two|three)"
_POLITE = re.compile(
    r"^(?:(?:ok(?:ay)?|hey|hi|hmm+|um+|now|also|and|then|so|oh|great|nice|cool|good|perfect|thanks|thank you|yes|yeah|well|nah|nope|actually|hm|alright|right|oops|whoops|oh no|wait|sorry|uh|"
    r"wow|lovely|ugh+|meh|awesome|excellent|fine|sure|yep|yup|ah|no+(?=[,!.]))[,!. ]+)*"
    r"(?:(?:i'?m |i am )?not (?:so |too |really |quite )?sure[,!.]*\s+|idk[,!.]*\s+|dunno[,!.]*\s+|i don'?t know[,!.]*\s+)?"
    r"(?:(?:please|pls|kindly)\s+)?(?:(?:can|could|would|will) you(?: please| possibly| maybe| perhaps| just| kindly)*\s+|i(?:'d| would) like (?:you )?to\s+"
    r"|i want (?:you )?to\s+|let's\s+|let us\s+|try to\s+|maybe\s+|go ahead and\s+)?"
    # hedges people put in front of a request: "is it possible to add a cat", "i think it would look better at night"
    r"(?:(?:is it possible|would it be possible|is there a way|any chance you could|do you think you could|"
    r"it would be (?:nice|cool|great|better) if (?:you could|it was|it were|you)?|can we|could we|we should|"
    r"you should|i need you to|i'd prefer(?: it)?|i would prefer(?: it)?|i prefer|i'd rather(?: have)?|"
    # "i want it at sunset", "i'd like it darker"; "i want a sunset instead" (what follows is the edit)
    r"i (?:want|need) it|i(?:'d| would) like it|i (?:want|need)(?=\s.+\binstead[\s.!]*$)|"
    r"i think (?:it |this )?(?:would|will|might) look (?:better|nicer|cooler|good|great)(?: with| as| if| in)?|"
    r"i think(?: that)?|i feel like|i guess|how about we|what i want is|what i'd like is|"
    r"same(?: thing| picture| image| scene)?(?:,)? but|same but|keep (?:everything|the rest|it) (?:the same )?but|"
    r"keep (?:the |everything |all )?[\w' ]{1,30}? (?:the same |as it is |as is )?but)"
    r"(?:\s+to)?[\s,]+)?", re.I)
_TRAILING = re.compile(r"[\s,.!?]*(?:\b(?:please|pls|thanks|thank you|too|as well|now|for me|again|once more))?[\s,.!?]*$", re.I)
_FIRST_LEAD = re.compile(
    r"^(?:(?:please\s+)?(?:(?:can|could|would) you\s+)?(?:please\s+)?(?:draw|paint|make|create|generate|show|render|"
    r"illustrate|sketch|give|do|produce|design)(?: me| us)?\s+|i(?:'d| would) (?:like|love)(?: to see| to have)?\s+|"
    r"i (?:want|need)(?: to see)?\s+|let'?s (?:see|have|draw|make|paint|do|start with)\s+|show me\s+|"
    r"(?:can|could|may) i (?:get|have|see)\s+|how about\s+|start with\s+)?", re.I)
_MEDIUM = re.compile(r"^(?:an?|the|one)\s+(?P<m>image|picture|pic|photo|photograph|painting|oil painting|drawing|"
                     r"illustration|render|sketch|watercolou?r|cartoon|portrait)\s+of\s+", re.I)
_GREETING = re.compile(r"^(?:(?:hi|hello|hey|hiya|yo|good (?:morning|evening|afternoon))(?:\s+there)?[!,.]*\s+)+", re.I)


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(" ,.;:!?")


#: "too dark" asks for the opposite; words without a clear opposite become "less X".
_OPPOSITES = {"dark": "brighter", "bright": "darker", "busy": "simpler", "cluttered": "simpler", "plain": "more detailed",
              "big": "smaller", "large": "smaller", "small": "bigger", "tiny": "bigger", "saturated": "muted colors",
              "colorful": "muted colors", "colourful": "muted colors", "dull": "more vibrant", "boring": "more vibrant",
              "gloomy": "more cheerful", "cold": "warmer", "warm": "cooler", "blurry": "sharp focus", "harsh": "softer",
              "old": "younger", "young": "older"}
_TOO = re.compile(r"^(?:(?:it's|it is|its|that's|thats|this is|it looks|looks|it seems|it feels|everything is)\s+)?"
                  r"(?:(?:way|a bit|a little|much|far|kind of|kinda|slightly|really)\s+)?(?:too|not so|not as|overly)\s+"
                  r"(?P<x>[a-z]+)(?:\s+now)?$", re.I)


#: Wishes, complaints and negations said as statements, rewritten as the request they make.
_RESTATE = [
    # "a fireplace would be nice", "i think a dog would be cute", "i wish there was a dog"
    (re.compile(r"^(?:i think\s+|maybe\s+)?(?P<x>(?:an?|some|two|three|a few|more)\s+.+?)\s+(?:would|could|might) "
                r"(?:be|look) (?:nice|cool|great|good|cute|lovely|fun|better|awesome|perfect)(?: here| there| too)?$", re.I), "add {x}"),
    (re.compile(r"^(?:it would be|it'd be|that would be) (?:nice|cool|great|good|fun|lovely) (?:to have|to see|to add|with)\s+(?P<x>.+)$", re.I), "add {x}"),
    (re.compile(r"^i wish (?:there was|there were|there's|it had)\s+(?P<x>.+)$", re.I), "add {x}"),
    # "there are too many trees", "too many trees", "not so many birds"
    (re.compile(r"^(?:there (?:are|is)\s+)?(?:way |far )?(?:too many|not so many|so many)\s+(?P<x>.+)$", re.I), "fewer {x}"),
    # "not enough contrast", "it needs more light"
    (re.compile(r"^(?:there (?:is|isn't|is not)\s+)?not enough\s+(?P<x>.+)$", re.I), "more {x}"),
    # "it's not cozy enough", "the sky isn't dark enough"
    (re.compile(r"^(?P<x>it|it's|its|the [\w' -]+?)\s*(?:is|are|'s)?\s*(?:not|n't|isn't|aren't|is not)\s+(?P<y>[a-z-]+) enough$", re.I),
     "make {x} more {y}"),
    # "the cat is too small", "the sofa looks too big", "he is too old"
    (re.compile(r"^(?P<x>the [\w' -]+?)\s+(?:is|are|looks?|seems?)\s+(?:way |a bit |a little |much |far )?too\s+(?P<y>[a-z]+)$", re.I),
     "make {x} {too}"),
    (re.compile(r"^(?P<x>he|she|they)(?:'s|'re)?\s+(?:is |are |looks? |seems? )?(?:way |a bit |a little |much |far )?too\s+"
                r"(?P<y>[a-z]+)$", re.I), "make {pronoun} {too}"),
    # "change the sky so it looks stormy", "fix the water so that it is calm"
    (re.compile(r"^(?:change|make|adjust|fix|edit|tweak)\s+(?P<x>the [\w' -]+?)\s+so(?: that)?\s+(?:it|they)\s+"
                r"(?:looks?|is|are|seems?|becomes?|feels?|gets?)\s+(?P<y>.+)$", re.I), "make {x} {y}"),
    # "crop it tighter", "zoom in on the fox", "get closer": a closer view
    (re.compile(r"^(?:crop (?:it |the (?:image|picture) )?(?:tighter|closer|in)|zoom in(?: on .+)?|get closer(?: to .+)?|"
                r"close[- ]?up(?: shot)? (?:on|of) .+|"
                r"move (?:the camera )?closer(?: to .+)?|closer)$", re.I), "make it a close-up"),
    (re.compile(r"^(?:zoom out|pull back|move (?:the camera )?(?:back|further away)|show more of the (?:scene|surroundings))$",
                re.I), "make it a wide shot"),
    # "don't make it so dark", "don't make the cat so big"
    (re.compile(r"^(?:don't|dont|do not)\s+make\s+(?P<x>it|the [\w' -]+?)\s+(?:so|too|that)\s+(?P<y>[a-z]+)$", re.I),
     "make {x} {too}"),
    # "i don't want it to be night", "i don't want the cat to be black"
    (re.compile(r"^i (?:don't|dont|do not) want (?:it|the (?:image|picture|scene)) to be\s+(?P<x>.+)$", re.I), "no {x}"),
    # "it shouldn't be raining", "there shouldn't be any birds", "not at night"
    (re.compile(r"^(?:it|there)\s+(?:shouldn't|should not|mustn't|must not|can't|cannot)\s+be\s+(?:any\s+)?(?P<x>.+)$", re.I), "no {x}"),
    (re.compile(r"^not\s+(?:at|in|during)\s+(?P<x>.+)$", re.I), "no {x}"),
    (re.compile(r"^stop\s+(?P<x>the .+)$", re.I), "remove {x}"),
    # "photo not painting", "a dog, not a cat"
    (re.compile(r"^(?P<x>(?:an?\s+)?[\w-]+(?:\s+[\w-]+)?),?\s+not\s+(?:an?\s+|the\s+)?(?P<y>[\w-]+(?:\s+[\w-]+)?)$", re.I),
     "{x} instead of {y}"),
    # "the cat looks sad", "the kite is red" (a wanted state of something in the picture)
    (re.compile(r"^(?P<x>the [\w'-]+(?: (?!should|must|could|can|would|will|might|needs|has)[\w'-]+)?)\s+"
                r"(?:is|are|looks?|seems?)\s+(?:now\s+)?(?P<y>[a-z-]+)(?:\s+now)?$", re.I),
     "the {x_bare} should be {y}"),
    # "he should look angry", "the man should seem calmer": how it is to look
    (re.compile(r"^(?P<x>he|she|they|it|the [\w'-]+(?: [\w'-]+)?)\s+(?:should|must|needs to|has to|ought to)\s+"
                r"(?:look|seem|appear)\s+(?P<y>[a-z-]+)$", re.I), "make {pronoun} look {y}"),
]


def _restate(text: str) -> str:
    for pattern, template in _RESTATE:
        match = pattern.match(text)
        if not match:
            continue
        parts = {k: (v or "") for k, v in match.groupdict().items()}
        x = parts.get("x", "")
        if x.lower() in ("it's", "its"):
            x = "it"
        too = _OPPOSITES.get(parts.get("y", "").lower(), f"less {parts.get('y', '')}")
        pronoun = {"he": "him", "she": "her", "they": "them"}.get(x.lower(), x)
        return _clean(template.format(x=x, y=parts.get("y", ""), too=too, x_bare=re.sub(r"^the\s+", "", x), pronoun=pronoun))
    return text


def normalise_request(message: str) -> str:
    text = _clean(message)
    text = _POLITE.sub("", text)
    text = _TRAILING.sub("", text)
    # "a photo from the 70s", "an old 50s photograph" -> "70s photo", "50s photograph" (an era style)
    text = re.sub(r"\b(?:an?\s+)?(?:old\s+)?(photo|photograph|picture)\s+from\s+the\s+((?:19)?[2-9]0s)\b", r"\2 \1", text, flags=re.I)
    text = re.sub(r"\b(?:an?\s+)?old\s+((?:19)?[2-9]0s\s+(?:photo|photograph|picture))\b", r"\1", text, flags=re.I)
    text = re.sub(r"(?:^|(?<=\s))(?:even|still|a bit|a little|slightly|somewhat|a touch|much|way)\s+(?=[a-z]{2,}er\b)", "", _clean(text), flags=re.I)
    too = _TOO.match(_clean(text))
    if too:
        word = too.group("x").lower()
        text = f"make it {_OPPOSITES[word]}" if word in _OPPOSITES else f"less {word}"
    else:
        negated = _negated_term(_clean(text))
        text = negated if negated != _clean(text) else _restate(_clean(text))
    return _negated_term(_clean(text))


_NOT_TERM = re.compile(r"^(?:make it\s+|it should(?:n't| not) be\s+|i said\s+|but\s+)?(?:not|no longer|stop being)\s+(?:an?\s+|so\s+)?"
                       r"(?P<x>[\w -]+?)(?:\s+(?:style|anymore|any more|please))?$", re.I)


def _negated_term(text: str) -> str:
    """"not anime" / "make it not anime": drop that style (or mood, time …), the way "no anime" does."""
    match = _NOT_TERM.match(text)
    if not match:
        return text
    x = _clean(match.group("x"))
    terms = find_terms(x)
    return f"no {x}" if terms and _strip_det(x).lower() in {t for t, _ in terms} else text


_BARE_INSTEAD = re.compile(r"^(?:(?:maybe|perhaps|how about|what about|or|try|rather|make it|make that|make this)\s+)?"
                           r"(?P<x>(?:(?P<det>an?|some|two|three)\s+)?[\w'-]+(?:\s+[\w'-]+)?),?\s+instead$", re.I)


def _bare_instead(text: str) -> str:
    """"a moose instead" / "dog instead": the thing the picture shows becomes X ("make it a moose
    instead"); a colour, style, time or other scene word is left to the rules that know it."""
    match = _BARE_INSTEAD.match(text)
    if not match:
        return text
    x = match.group("x")
    last = x.split()[-1].lower()
    if find_terms(x) or last in COLOUR_WORDS or _adjective_like(last) or last in _KNOWN_ADJECTIVES or \
            last in ("it", "this", "that", "one", "them") or last in _COMPARATIVES:
        return text
    if not match.group("det"):
        x = f"some {x}" if last.endswith("s") and not last.endswith("ss") else f"{_article_for(x)} {x}"
    return f"make it {x} instead"


def first_prompt(message: str) -> str:
    """A txt2img prompt from a first message: drop "can you draw me", keep the description."""
    text = _clean(message)
    stripped = _GREETING.sub("", text)
    stripped = _FIRST_LEAD.sub("", stripped, count=1)
    medium = _MEDIUM.match(stripped)
    if medium:
        stripped = stripped[medium.end():]
    stripped = _clean(_TRAILING.sub("", stripped))
    if medium and medium.group("m").lower() not in ("image", "picture", "pic") and stripped:
        kind = medium.group("m").lower()
        stripped = f"{stripped}, {'photo' if kind == 'photograph' else kind}"
    return stripped or text


# ------------------------------------------------------------------------ prompt surgery
def _segments(prompt: str) -> list[str]:
    return [s.strip() for s in prompt.split(",") if s.strip()]


def _split_style_tail(segments: list[str]) -> tuple[list[str], list[str]]:
    """(segments, trailing style segments): additions go before the style, which stays last."""
    segments = list(segments)
    tail: list[str] = []
    while len(segments) > 1 and any(c == "style" for _, c in find_terms(segments[-1])):
        tail.insert(0, segments.pop())
    return segments, tail


def _join(segments: list[str]) -> str:
    return ", ".join(s for s in (_clean(x) for x in segments) if s)


def _noun_pattern(noun: str) -> str:
    """Regex for a noun and its plain plural/singular."""
    noun = noun.lower().strip()
    base = re.escape(noun)
    if noun.endswith("ies"):
        alt = re.escape(noun[:-3] + "y")
    elif noun.endswith("es") and noun[:-2].endswith(("s", "x", "ch", "sh")):
        alt = re.escape(noun[:-2])
    elif noun.endswith("s") and not noun.endswith("ss"):
        alt = re.escape(noun[:-1])
    elif noun.endswith("y") and noun[-2:-1] not in "aeiou":
        alt = re.escape(noun[:-1] + "ies")
    elif noun.endswith(("s", "x", "ch", "sh")):
        alt = base + "es"
    else:
        alt = base + "s"
    return rf"\b(?:{base}|{alt})\b"


def _strip_det(phrase: str) -> str:
    return _clean(re.sub(rf"^{_DETERMINERS}\s+", "", _clean(phrase), flags=re.I))


def _head(phrase: str) -> str:
    """Head noun of a simple noun phrase: the last word before a preposition."""
    phrase = _strip_det(phrase)
    phrase = re.split(r"\s+(?:on|in|at|from|with|of|near|under|over|behind|beside|next|by|that|which|who)\s+",
                      phrase, maxsplit=1)[0]
    words = phrase.split()
    return words[-1] if words else phrase


def mentions(prompt: str, phrase: str) -> bool:
    return bool(re.search(_noun_pattern(_head(phrase)), prompt, re.I)) if _head(phrase) else False


_LINKS = r"(?:with|and|holding|wearing|carrying|next to|beside|near|behind|in front of|under|on top of|plus)"
#: A word inside a noun phrase (not a preposition or conjunction that starts another phrase).
_NP_WORD = (r"(?:(?!(?:on|in|at|by|with|and|or|of|under|over|near|behind|beside|from|to|for|into|onto|"
            r"holding|wearing|carrying|surrounded)\b)[\w'-]+\s+)")


def remove_object(prompt: str, thing: str) -> tuple[str, bool]:
    """Remove ``thing`` (its head noun) from ``prompt``: whole phrases that are about it, or the
    ``with a …``/``and a …`` sub-phrase that mentions it. Returns (prompt, found)."""
    head = _head(thing)
    if not head:
        return prompt, False
    noun = _noun_pattern(head)
    segments = _segments(prompt)
    found = False
    out: list[str] = []
    for index, seg in enumerate(segments):
        if not re.search(noun, seg, re.I):
            out.append(seg)
            continue
        found = True
        # a linked sub-phrase: "a woman with a red hat" -> "a woman"
        # (a trailing "on his head" goes with it; "on a rainy street" describes the scene and stays)
        linked = re.compile(rf"\s+(?P<link>{_LINKS})\s+(?:{_DETERMINERS}\s+)?(?:(?!(?:with|and|in|on|of|at|holding|wearing|front|next|[a-z]+ing)\b)[\w'-]+\s+){{0,3}}?{noun}"
                            rf"(?:\s+[a-z]+ing(?:\s+(?:above|overhead|around|nearby|about|past|by|in the (?:sky|air|water|distance)))?"
                            rf"(?=\s*$|\s+(?:and|with)\b))?"
                            rf"(?:\s+(?:on|in|at|of|from)\s+(?:his|her|its|their|my)\s+[\w'-]+(?=\s*$|\s+(?:and|with)\b))?"
                            rf"(?P<next>\s+and\s+(?=[\w'-]))?", re.I)

        def unlink(m: re.Match) -> str:
            # "a cabin with a chimney and a red door" -> "a cabin with a red door", not "a cabin and a red door"
            link = m.group("link").lower()
            return f" {link} " if m.group("next") and link != "and" else (" and " if m.group("next") else "")
        new = linked.sub(unlink, seg, count=1)
        if new != seg and _clean(new):
            out.append(new)
            continue
        # the segment is about the thing: "a red hat", "birds in the sky"
        lead = re.compile(rf"^(?:{_DETERMINERS}\s+)?{_NP_WORD}{{0,3}}?{noun}\s*", re.I)
        rest = lead.sub("", seg, count=1)
        if rest != seg:
            rest = re.sub(r"^(?:is\s+|are\s+)?(?:[a-z]{3,}ing|[a-z]{3,}ed)\b\s*(?=(?:on|in|at|under|over|by|near|beside|along|across|inside)\b)", "", rest.strip(), flags=re.I)
            listed = re.match(r"^(?:and|or|plus|&)\s+(?P<r>.+)$", rest.strip(), re.I)
            rest = _clean(re.sub(rf"^(?:{_LINKS}|on|in|at|under|over|flying|sitting|standing|is|are)\b\s*", "", rest))
            if index > 0 and listed and rest:
                out.append(rest)  # "pears and grapes": the rest of the list stays
            elif index == 0 and rest:
                out.append(rest)  # the main subject went; keep where it was ("a cat on a sofa" -> "a sofa")
            continue
        # noun in the middle of a phrase: drop "and the X"/"X and"/"walking a X" pieces
        new = re.sub(rf"\s*\b(?:and|or)\s+(?:{_DETERMINERS}\s+)?{_NP_WORD}{{0,2}}?{noun}", "", seg, flags=re.I)
        new = re.sub(rf"\b(?:{_DETERMINERS}\s+)?{_NP_WORD}{{0,2}}?{noun}\s+and\s+", "", new, flags=re.I)
        new = re.sub(rf"\s+[a-z]+ing\s+(?:{_DETERMINERS}\s+)?{_NP_WORD}{{0,2}}?{noun}", "", new, flags=re.I)
        if new == seg:  # "a knight on a horse in front of a castle": the phrase the noun sits in
            new = re.sub(rf"\s+(?:on|in|at|under|over|near|by|behind|beside|inside|atop|on top of)\s+(?:{_DETERMINERS}\s+)?"
                         rf"{_NP_WORD}{{0,2}}?{noun}\b", "", seg, count=1, flags=re.I)
        if new != seg and not re.search(noun, new, re.I) and _clean(new):
            out.append(new)
            continue
        # last resort: cut just the noun phrase and tidy what dangles
        new = re.sub(rf"(?:\b{_DETERMINERS}\s+)?(?:[\w'-]+\s+){{0,1}}?{noun}", "", seg, flags=re.I)
        new = _clean(re.sub(r"\b(?:with|and|of|on|in|at|by|the|a|an)\s*$", "", _clean(new)))
        new = _clean(re.sub(r"^(?:with|and|of|on|in|at|by)\b", "", new))
        if new and index == 0:
            out.append(new)
    result = _join(out)
    if not result:
        return prompt, found
    return result, found


def _remove_category(prompt: str, category: str, only: set[str] | None = None) -> str:
    """Drop phrases of ``category`` (e.g. every time-of-day phrase) from ``prompt``; with ``only``,
    just those terms and their phrases ("remove the lightning" keeps "in a storm")."""
    terms = [t for t in CATEGORIES[category]] + list(CATEGORIES[category].values())
    if only is not None:
        terms = [t for t in terms if t.lower() in only or CATEGORIES[category].get(t, "").lower() in only
                 or any(CATEGORIES[category].get(o) == t for o in only)]
    terms = sorted(set(terms), key=len, reverse=True)
    segments = []
    for seg in _segments(prompt):
        new = seg
        for term in terms:
            pattern = (rf"\s*(?<![\w'-])(?:(?:at|in|during|under|lit by|with|as an?|as)\s+(?:the\s+|a\s+|an\s+)?)?"
                       rf"(?:strong\s+|soft\s+|heavy\s+|thick\s+|light\s+)?{re.escape(term)}(?![\w'-])"
                       rf"(?:\s+(?:style|mood|atmosphere|lighting|light|view|shot|weather|vibes?))?")
            if category == "style" and term in ("painting", "drawing", "illustration", "photo", "render"):
                pattern = rf"(?:^|\s+)(?:an?\s+)?(?:[\w-]+\s+)?{re.escape(term)}\b"
                if re.fullmatch(rf"(?:an?\s+)?(?:[\w-]+\s+)?{re.escape(term)}", _clean(seg), re.I):
                    new = ""
                continue
            # with its preposition only when the term ends the phrase ("at sunset"), else the bare
            # adjective ("in a snowy forest" -> "in a forest")
            new = re.sub(pattern + r"(?=\s*(?:$|,|\band\b))", "", new, flags=re.I)
            if category == "style" and re.search(rf"(?<![\w'-]){re.escape(term)}\s+(?!(?:of|in|on|at|with|and|by|for)\b)[a-z]",
                                                 new, re.I):
                continue  # "a red vintage car": the car is vintage, not the picture's style
            new = re.sub(rf"(?<![\w'-]){re.escape(term)}(?![\w'-])\s*", "", new, flags=re.I)
        new = _clean(_DANGLING_DAY.sub("", new))
        if new and not re.fullmatch(r"(?:in|at|on|during|with|the|a|an|of|and|style)(?:\s+(?:in|at|on|during|with|the|a|an|of|and|style))*", new, re.I):
            segments.append(new)
    return _join(segments)


def find_terms(text: str) -> list[tuple[str, str]]:
    """(term, category) pairs named in ``text``, longest terms first, without overlaps."""
    found: list[tuple[str, str]] = []
    taken: list[tuple[int, int]] = []
    lowered = text.lower()
    for term, cat in _TERMS:
        for match in re.finditer(rf"(?<![\w'-]){re.escape(term)}(?![\w'-])", lowered):
            span = match.span()
            if any(a < span[1] and span[0] < b for a, b in taken):
                continue
            taken.append(span)
            found.append((term, cat))
    order = {t: lowered.find(t) for t, _ in found}
    return sorted(found, key=lambda tc: order[tc[0]])


# ------------------------------------------------------------------------------ the edit
_BACKGROUND_PHRASE = re.compile(
    r"(?P<lead>\b(?:on|against|with|over|before|in front of)\s+)?(?:(?:a|an|the)\s+)?(?:[\w'-]+\s+){0,3}?"
    r"(?P<word>background|backdrop)\b", re.I)


def _new_background(segment: str, place: str) -> str:
    """``segment`` with its background phrase said as ``place``: "a red apple on a white
    background" -> "a red apple on a beach background" (the subject stays)."""
    match = _BACKGROUND_PHRASE.search(segment)
    if match is None or not segment[:match.start()].strip():
        return f"{place} {match['word'] if match else 'background'}"  # the segment is only the background
    lead = match["lead"] or ""
    plural = place.lower().endswith("s") and not place.lower().endswith("ss")
    article = "" if not lead or plural or re.match(r"(?:a|an|the)\s", place, re.I) else \
        ("an " if place[:1].lower() in "aeiou" else "a ")
    return f"{segment[:match.start()]}{lead}{article}{place} {match['word']}{segment[match.end():]}"


@dataclass
class RuleEdit:
    """A request the rules understood, applied to the prompt."""

    prompt: str
    kind: str
    target: str = ""
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    negative: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


_REMOVE_RE = [
    re.compile(r"^(?:remove|delete|erase|get rid of|take (?:away|out)|take off|drop|lose|eliminate|cut out|hide|ditch|"
               r"scrap|discard|trash|bin|kill|banish|leave out|strip out|strip away|"
               r"clear away|clear|rub out|wipe out|shave off|shave)\s+(?P<x>.+)$", re.I),
    re.compile(r"^(?:no more|no longer any|no|without|minus)\s+(?P<x>.+)$", re.I),
    re.compile(r"^(?:there should(?: be)? no|there shouldn't be(?: any)?|i don't want(?: to see)?|don't show|"
               r"i do not want|i dont want|i don't wanna|i dont wanna|i don't need|i do not need|we don't need|no need for|lose|"
               r"i don't like|i dont like)\s+(?P<x>.+?)"
               r"(?:\s+(?:anymore|any more|there|here|in there|in here|in it|in the (?:picture|image|scene|shot|photo)|"
               r"at all|out of (?:here|there|it|the (?:picture|image|scene))))*$", re.I),
    # "the seagulls shouldn't be there", "the car doesn't belong in the picture"
    re.compile(r"^(?P<x>(?:the|that|those|these)\s+.+?)\s+(?:shouldn't|should not|mustn't|must not|don't|doesn't|do not|does not|can't)"
               r"\s+(?:be (?:there|here|in (?:it|there|here|the (?:picture|image|scene|shot|photo)))|belong(?: there| here| in .+)?|"
               r"fit(?: in)?(?: there| here)?)$", re.I),
    re.compile(r"^(?P<x>.+?)\s+(?:has to|must|should|needs to|can)\s+(?:go|disappear|vanish|be removed|be gone)$", re.I),
    re.compile(r"^(?P<x>.+?)\s+(?:should go|has to go|must go|needs to go|can go|is not needed|isn't needed)$", re.I),
    re.compile(r"^(?:take|get|move)\s+(?P<x>.+?)\s+(?:out|away|off)(?: of (?:the )?(?:image|picture|scene|it))?$", re.I),
]
_ADD_RE = [
    # "get some birds in there", "stick a dog in the picture"
    re.compile(r"^(?:get|put|stick|throw|pop)\s+(?P<x>(?:an?|some|two|three|several|many|a few|more)\s+.+?)\s+"
               r"(?:in there|in here|in it|in the (?:picture|image|scene|shot)|there|here)$", re.I),
    re.compile(r"^(?:add|include|insert|put in|throw in|draw|paint|place|put|stick|give (?:it|him|her|them|the \w+)|"
               r"there should be|there should also be|let there be|i want(?: to see)?|i'd like(?: to see)?|"
               r"and|also add|plus|with|show)\s+(?P<x>.+)$", re.I),
    re.compile(r"^(?:have|make)\s+(?P<x>(?:an?|some|two|three|several|many)\s+.+?)\s+(?:appear|show up|in it|there)$", re.I),
]
_REPLACE_RE = [
    re.compile(r"^(?:swap|switch|trade|change|exchange)\s+(?P<a>.+?)\s+out\s+(?:for|with)\s+(?P<b>.+)$", re.I),
    re.compile(r"^(?:use|put|have|draw|show|i want|give me)\s+(?P<b>.+?)\s+instead of\s+(?P<a>.+)$", re.I),
    re.compile(r"^(?:replace|swap|switch|exchange|substitute)\s+(?P<a>.+?)\s+(?:with|for|by)\s+(?P<b>.+)$", re.I),
    re.compile(r"^(?:change|turn|transform|convert|make|morph)\s+(?P<a>.+?)\s+(?:into|to|in to)\s+(?P<b>.+)$", re.I),
    re.compile(r"^(?P<b>.+?)\s+instead of\s+(?P<a>.+)$", re.I),
    re.compile(r"^instead of\s+(?P<a>.+?),?\s+(?:use|have|draw|put|make it|show)?\s*(?P<b>.+)$", re.I),
    re.compile(r"^(?:make|let)\s+(?P<a>the .+?)\s+(?:be\s+)?(?P<b>(?:an?)\s+.+)$", re.I),
    re.compile(r"^(?:make|let|turn|change)\s+(?P<a>it|this|that)\s+(?:be\s+|into\s+|to\s+)?(?P<b>(?:an?|some|two|three)\s+.+?)\s+instead$", re.I),
    re.compile(r"^(?:make|turn|change)\s+(?P<a>it|this|that)\s+(?:into\s+|to\s+)?(?P<b>(?:an?)\s+(?:[\w'-]+\s+){0,2}[\w'-]+)$", re.I),
    re.compile(r"^(?P<a>the .+?)\s+should be\s+(?P<b>.+)$", re.I),
    # "could the coffee be tea", "can the dog be a wolf instead"
    re.compile(r"^(?:could|can|would|should|shall|may)\s+(?P<a>the .+?)\s+(?:be|become)\s+(?P<b>.+?)(?:\s+instead)?$", re.I),
    # "i'd rather have a moose than the deer"
    re.compile(r"^(?:i'd rather have|i would rather have|rather)\s+(?P<b>.+?)\s+than\s+(?P<a>.+)$", re.I),
    re.compile(r"^(?P<b>(?:an?|some|two|three)\s+(?!(?:more|less|bit)\b)[\w' -]+?)\s+(?:rather\s+)?than\s+(?P<a>(?:the|a|an)\s+.+)$", re.I),
]
_SCENE_LEAD = re.compile(
    r"^(?:make|turn|change|set|render|redo|do|paint|draw|convert|transform|switch|show|have|use|add|give it|try|go for|go with|switch to|apply|put it in|with)?\s*"
    r"(?:it|this|that|the (?:image|picture|scene|photo|painting|whole thing|whole image|setting|time|weather|season|style|mood|lighting|light)|everything|all of it)?\s*"
    r"(?:look|feel|seem|appear)?\s*(?:to be|be|into|to|in|as|like|more)?\s*", re.I)
#: "let's start over", "start fresh", "new picture": a restart said outright (``_BARE_RESTART_RE``).
_RESTART = (r"(?:(?:let'?s|let us|can we|could we|i want to|i'd like to)\s+)?"
            r"(?:start (?:over|again|afresh|fresh|anew|from scratch)|begin again|restart|new (?:image|picture)|from scratch)")
_NEW_RE = re.compile(rf"^(?:{_RESTART}|scrap (?:that|this|it)|forget (?:that|this|it|everything)|something else|"
                     r"never mind)[:,.!]?\s*(?:(?:and|with|,)\s*)?"
                     r"(?:(?:draw|paint|make|show|generate|create|do|give me)\s+(?:me\s+)?)?(?P<x>.*)$", re.I)
_INSTEAD_RE = re.compile(r"^(?:actually,?\s+)?(?:draw|paint|make|show|generate|create)\s+(?:me\s+)?(?P<x>(?:an?|some|the)\s+.+?)\s+instead$", re.I)
_MODIFIER_RE = re.compile(
    r"^(?:make|render|paint)\s+(?:it|this|the (?:image|picture|scene|photo|whole thing|colors|colours))\s+"
    r"(?:look\s+|feel\s+|a bit\s+|a little\s+|slightly\s+|much\s+|way\s+)*(?P<more>more|less)?\s*(?P<y>[\w\s-]+)$", re.I)
_ATTR_RE = re.compile(r"^(?:make|paint|repaint|colou?r|recolou?r|dye|turn|change|tint)\s+(?P<x>.+?)\s+(?P<y>[\w-]+(?:\s+and\s+[\w-]+){0,2})$", re.I)
_PLACEHOLDERS = {"it", "this", "that", "everything", "the image", "the picture", "the scene", "the photo",
                 "the whole thing", "the whole image", "the style", "the painting", "all", "it all", "the setting"}
_COMPARATIVES = {"bigger": "big", "larger": "large", "smaller": "small", "taller": "tall", "shorter": "short",
                 "brighter": "bright", "darker": "dark", "older": "old", "younger": "young", "happier": "happy",
                 "longer": "long", "wider": "wide", "thinner": "thin", "fatter": "fat", "redder": "red",
                 "lighter": "light", "warmer": "warm", "colder": "cold", "cuter": "cute", "scarier": "scary"}


def _article_for(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"


_TERM_WORDS = {w for cat in CATEGORIES.values() for term in cat for w in re.findall(r"[\w'-]+", term)}


def _base_forms(text: str) -> str:
    """softer -> soft, foggier -> foggy, sadder -> sad, when the base is a known scene word."""
    def base(match: re.Match) -> str:
        word = match.group(0)
        low = word.lower()
        if low in _TERM_WORDS:
            return word
        for cand in ((low[:-3] + "y") if low.endswith("ier") else None, low[:-2] if low.endswith("er") else None,
                     low[:-3] if low.endswith("er") and len(low) > 4 and low[-3] == low[-4] else None,
                     low[:-1] if low.endswith("er") else None):
            if cand and cand in _TERM_WORDS:
                return cand
        return word
    return re.sub(r"[A-Za-z]+", base, text)


def _apply_scene_terms(prompt: str, text: str) -> RuleEdit | None:
    """Time, weather, season, lighting, style, mood: replace the old value, append the new one."""
    text = re.sub(r"^[\w\s'-]{1,30}:\s*", "", text)  # "lighting: soft light", "camera angle: close-up"
    text = _base_forms(text)
    rest = _SCENE_LEAD.sub("", text, count=1)
    artist = re.search(r"(?:in the style of|in the manner of|style of|(?:painted|drawn|done) by|like (?:a painting by|an?))\s+"
                       r"(?P<who>[\w .'-]+?)(?:'s)?(?:\s+(?:style|painting|would))?$", rest, re.I)
    if artist and not find_terms(rest):
        who = _clean(artist.group("who"))
        phrase = f"in the style of {who}"
        return RuleEdit(prompt=_join(_segments(_remove_category(prompt, "style")) + [phrase]), kind="style",
                        target=phrase, added=[phrase], notes=[f"style: {phrase}"])
    terms = find_terms(rest)
    if not terms:
        return None
    # everything the message says must be about these terms (plus filler), else it is something else
    leftover = rest.lower()
    for term, _ in terms:
        leftover = re.sub(rf"\b{re.escape(term)}\b", " ", leftover)
    filler = (r"\b(?:a|an|the|in|at|of|style|styled|like|as|with|and|during|time|version|look|feel|more|very|"
             r"really|kind|sort|effect|mood|atmosphere|vibe|vibes|light|lighting|scene|setting|instead|please|"
             r"by|made|done|make|it|into|painted|drawn|rendered|shot|taken|picture|image|photo|painting|drawing|"
             r"season|weather|colors|colours|tones|theme|themed|aesthetic|out|artwork|art|to|be|should|look|"
             r"some|fully|completely|whole|entire|so|that|thing|of|day|one|put|set|go|is|on|for|instead|let|"
             r"shoot|relight|relit|camera|angle|use|add|give|apply|switch|try|lit|shot|view|lens|perspective|"
             r"framing|frame|change|turn|convert|transform|render|redo|do|have|show|paint|draw|can|you|this|"
             r"should|would|could|we|go|going|get|bit|little|slightly|much|way|its|it's|looking|feeling|"
             r"vibe|tone|filter|version|edit|atmosphere|mood|overall|lighting|time|weather|season|style|"
             r"setting|period|era|hour|moment|kind|type|sort|than|now|too|also|please|just|print|piece|work|"
             r"it's|too|bit|if|movie|film|game|video|scene|shot|cartoon|show|series|one|poster)\b")
    leftover = re.sub(filler, " ", leftover)
    if re.search(r"[a-z]{3,}", leftover):
        extra = _clean(leftover)
        # "in the style of hokusai": keep the whole phrase as a style
        if not re.search(r"style of", rest, re.I):
            return None
        terms = [(t, c) for t, c in terms]
        phrase = _clean(re.sub(r"^(?:in\s+)?", "in ", rest[rest.lower().find("style of") - 0:], flags=re.I))
        return RuleEdit(prompt=_join(_segments(_remove_category(prompt, "style")) + [phrase]), kind="style",
                        target=phrase, added=[phrase], notes=[f"style: {extra}"])
    new_prompt = prompt
    added: list[str] = []
    kinds: list[str] = []
    removed: list[str] = []
    done: set[str] = set()
    for term, cat in terms:
        if re.search(rf"(?<![\w'-]){re.escape(CATEGORIES[cat][term])}(?![\w'-])", new_prompt, re.I):
            continue  # already there
        if cat in EXCLUSIVE and cat not in done:
            new_prompt = _remove_category(new_prompt, cat)
            done.add(cat)
        phrase = CATEGORIES[cat][term]
        if re.search(rf"\b{re.escape(phrase)}\b", new_prompt, re.I) or phrase in added or \
                any(re.search(rf"(?<![\w'-]){re.escape(phrase)}(?![\w'-])", a, re.I) for a in added):
            continue  # "watercolor painting": "painting" is already said
        if cat in ("season", "weather", "time"):
            new_prompt, dropped = drop_contradictions(new_prompt, phrase)
            removed += dropped
        added.append(phrase)
        kinds.append(cat)
    if not added and not kinds:
        return RuleEdit(prompt=prompt, kind=terms[0][1], target=terms[0][0], notes=["already so"])
    segments = _segments(new_prompt) if new_prompt else []
    # time/season/weather/lighting follow the subject; style goes last.
    style = [p for p, k in zip(added, kinds) if k == "style"]
    other = [p for p, k in zip(added, kinds) if k != "style"]
    if other and segments:
        first = segments[0]
        inline = [p for p in other if p.startswith(("at ", "in ", "during ", "under ", "lit by "))]
        if inline:
            segments[0] = first + " " + " ".join(inline)
        segments[1:1] = [p for p in other if p not in inline]
    elif other:
        segments = other + segments
    segments += style
    return RuleEdit(prompt=_join(segments), kind=kinds[0] if kinds else terms[0][1], target=terms[0][0],
                    added=added, notes=[f"{k}: {p}" for p, k in zip(added, kinds)]
                    + ([f"dropped {', '.join(dict.fromkeys(removed))}"] if removed else []))


def _apply_remove(prompt: str, text: str) -> RuleEdit | None:
    for pattern in _REMOVE_RE:
        match = pattern.match(text)
        if not match:
            continue
        thing = _clean(match.group("x"))
        thing = re.sub(r"\s+(?:from|in|out of|off)\s+(?:the\s+)?(?:image|picture|scene|photo|it|sky|background)$", "", thing, flags=re.I)
        if not thing or thing.lower() in _PLACEHOLDERS:
            return None
        # "remove the rain" / "no more fog": a scene term
        terms = find_terms(thing)
        if terms and _strip_det(thing).lower() in {t for t, _ in terms}:
            cat = terms[0][1]
            new = _remove_category(prompt, cat, only=None if cat in ("style",) else {_strip_det(thing).lower()})
            if new == prompt:
                new = _remove_category(prompt, cat)
            return RuleEdit(prompt=new or prompt, kind="remove", target=_strip_det(thing), removed=[_strip_det(thing)],
                            negative=[_strip_det(thing)], notes=[f"removed {thing}"])
        parts = [p for p in re.split(r"\s*(?:,|\band\b)\s*", thing) if p]
        new = prompt
        removed, found_any = [], False
        for part in parts:
            new, found = remove_object(new, part)
            found_any = found_any or found
            removed.append(_strip_det(part))
        return RuleEdit(prompt=new, kind="remove", target=", ".join(removed), removed=removed, negative=removed,
                        notes=[f"removed the {' and the '.join(removed)}" if found_any
                               else f"there {'were' if _plural(removed[-1]) else 'was'} no {', '.join(removed)} to remove"])
    return None


_PLURAL_NOUNS = {"people", "children", "men", "women", "mice", "geese", "teeth", "feet", "sheep", "fish", "deer"}


def _plural(phrase: str) -> bool:
    """Whether a noun phrase's head reads as plural ("dogs", "people"), for "there were no dogs"."""
    head = phrase.split()[-1].lower() if phrase.split() else ""
    return head in _PLURAL_NOUNS or (head.endswith("s") and not head.endswith(("ss", "us", "is")))


_MONO = re.compile(r"(?<![\w'-])(?:black(?:\s+and\s+|\s*&\s*|-and-)white|b&w|b/w|monochrome|monochromatic|grayscale|"
                   r"greyscale|sepia(?:[- ]toned?)?|desaturated)(?![\w'-])", re.I)
_IN_COLOUR = re.compile(r"^(?:(?:make|turn|put|change|render|do|paint|bring|switch|have|show)\s+(?:it|this|that|the (?:image|picture|photo|"
                        r"scene|whole thing))\s+(?:back\s+)?(?:in(?:to)?\s+|to\s+|with\s+)?|(?:back\s+)?in(?:to)?\s+|back to\s+|"
                        r"go\s+|with\s+|use\s+|add(?: some| back(?: the)?| the)?\s+|give it\s+|(?:let's|lets) (?:have|see|go)\s+)?"
                        r"(?:some\s+|(?:full|natural|real|normal|vivid|vibrant)[- ])?colou?r(?:s|ed)?(?:\s+(?:again|instead|photo|"
                        r"image|version|back|please))*$", re.I)
_NO_MONO = re.compile(r"^(?:no|not|no more|without|stop being|remove(?: the)?|get rid of(?: the)?|lose(?: the)?|drop(?: the)?)\s+"
                      r"(?:the\s+)?(?:black and white|black & white|b&w|b/w|monochrome|grayscale|greyscale|sepia)"
                      r"(?:\s+(?:anymore|any more|look|filter|effect|style))?$", re.I)


def _apply_in_colour(prompt: str, text: str) -> RuleEdit | None:
    """"make it color" / "in colour" / "not black and white" on a black-and-white prompt: the
    monochrome words become "full color" ("black and white photo" -> "full color photo")."""
    if not (_IN_COLOUR.match(text) or _NO_MONO.match(text)):
        return None
    if not _MONO.search(prompt):  # "in colour" when it is in colour already
        return RuleEdit(prompt=prompt, kind="style", target="full color", notes=["already in colour"])
    old = [m.group(0) for m in _MONO.finditer(prompt)]
    new = _MONO.sub("full color", prompt, count=1)
    new = _MONO.sub("", new)
    new = re.sub(r"\b(an?)\s+(\w)", lambda m: f"{_article_for(m.group(2))} {m.group(2)}", new)
    new = _join(_segments(new))
    return RuleEdit(prompt=new, kind="style", target="full color", added=["full color"], removed=old, negative=old,
                    notes=["style: full color"])


def _replace_in_prompt(prompt: str, old: str, new: str) -> tuple[str, bool]:
    old_clean = _strip_det(old)
    new_clean = _clean(new)
    # exact phrase first ("red hat" -> "blue hat"), then the head noun with its adjectives
    word = r"(?:(?!(?:with|and|in|on|of|at|by|under|over|near|holding|wearing|sitting|standing|a|an|the)\b)[\w'-]+\s+)"
    np = re.compile(rf"(?:\b(?P<det>a|an|the|some|his|her|its|their)\s+)?(?P<mods>{word}{{0,2}}?)\b{re.escape(old_clean)}\b", re.I)
    match = np.search(prompt)
    if match:
        body = _strip_det(new_clean)
        new_det = re.match(r"^(?:a|an|the|some|two|three|several|many)\b", new_clean, re.I)
        if new_det:
            replacement = new_clean
        elif match.group("det"):
            replacement = f"{match.group('det')} {body}"
        else:
            replacement = body
        if match.group("mods") and not new_det and not match.group("det"):
            replacement = match.group("mods") + body  # keep "potted" in "potted plant" -> "potted cactus"
        elif match.group("mods") and not any(w.lower() in COLOUR_WORDS for w in body.split()):
            colours = [w for w in match.group("mods").split() if w.lower() in COLOUR_WORDS]
            if colours:  # "a red sports car" -> "a red convertible"
                det = (new_det.group(0) if new_det else match.group("det")) or ""
                replacement = _clean(f"{det} {' '.join(colours)} {_strip_det(body)}")
        out = prompt[:match.start()] + replacement + prompt[match.end():]
        # later mentions ("a cat on the armchair") follow the swap
        new_head = _head(body)
        tail_start = match.start() + len(replacement)
        if new_head and " " not in old_clean:
            out = out[:tail_start] + re.sub(rf"\b{re.escape(old_clean)}\b", new_head, out[tail_start:], flags=re.I)
        out = re.sub(r"\b(a)\s+(?=[aeiou])", "an ", out)
        out = re.sub(r"\b(an)\s+(?=[^aeiou\W])", "a ", out)
        return out, True
    head = _head(old_clean)
    noun = _noun_pattern(head)
    match = re.search(rf"(?:\b(?:an?|the|some)\s+)?(?:[\w-]+\s+){{0,2}}?{noun}", prompt, re.I)
    if match:
        had_article = re.match(r"(?:an?|the|some)\s", match.group(0), re.I)
        body = _strip_det(new_clean)
        replacement = f"{_article_for(body)} {body}" if had_article and not re.match(r"(?:some|two|three|many|several)\b", body) else body
        out = prompt[:match.start()] + replacement + prompt[match.end():]
        return out, True
    return prompt, False


def _subject(prompt: str) -> str | None:
    """The main subject's noun phrase: "a teddy bear" in "a teddy bear sitting on a bed"."""
    first = _segments(prompt)[0] if prompt else ""
    match = re.match(r"^((?:(?:a|an|the|some|two|three)\s+)?(?:[\w'-]+\s+){0,3}?[\w'-]+?)"
                     r"(?=\s+(?:[a-z]+ing|on|in|at|with|by|under|over|near|and|of|from|beside|next|behind|is|are)\b|$)",
                     first, re.I)
    return match.group(1) if match else None


def _apply_replace(prompt: str, text: str) -> RuleEdit | None:
    for pattern in _REPLACE_RE:
        match = pattern.match(text)
        if not match:
            continue
        old, new = _clean(match.group("a")), _clean(match.group("b"))
        new = _clean(re.sub(r"^(?:i want|i'd like|i would like|give me|use|have|put|draw|show|make it|let's have|"
                            r"how about|there should be|it should be)\s+", "", new, flags=re.I))
        if not old or not new:
            continue
        if re.fullmatch(r"(?:the\s+)?(?:background|backdrop|setting|scenery|location|place)", old, re.I) and not find_terms(new):
            segments = _segments(prompt)
            idx = next((i for i, seg in enumerate(segments) if re.search(r"\bbackground\b|\bbackdrop\b", seg, re.I)), None)
            place = _strip_det(new)
            if idx is not None:
                segments[idx] = _new_background(segments[idx], place)
            else:
                segments.insert(min(1, len(segments)), f"{place} in the background")
            return RuleEdit(prompt=_join(segments), kind="replace", target="background", added=[place],
                            notes=[f"background → {place}"])
        new = re.sub(r"\s+instead$", "", new, flags=re.I)
        if old.lower() in ("it", "this", "that") and not find_terms(new):
            subject = _subject(prompt)
            if subject:
                out, _ = _replace_in_prompt(prompt, _head(subject), new)
                return RuleEdit(prompt=out, kind="replace", target=_head(subject), added=[_strip_det(new)],
                                removed=[_head(subject)], negative=[_head(subject)],
                                notes=[f"{_head(subject)} → {_strip_det(new)}"])
        if old.lower() in _PLACEHOLDERS:
            return None  # "turn it into a watercolor": a scene-wide change, not an object swap
        # "change the sky to purple": an attribute, not an object
        new_words = _strip_det(new).split()
        adjectives = [w for w in re.split(r"\s*(?:,|\band\b)\s*|\s+", new) if w]
        if new_words == new.split() and adjectives and len(adjectives) <= 3 and mentions(prompt, old) and \
                old.lower() not in _PLACEHOLDERS and all(
                _adjective_like(_adjective_base(w)) or w.lower() in _KNOWN_ADJECTIVES or w.lower() in COLOUR_WORDS
                for w in adjectives):
            # "the library should be dark and spooky": the library gets the adjectives, it stays a library
            return _apply_attribute(prompt, f"make {old} {' and '.join(adjectives)}")
        if len(new_words) <= 2 and all(w.lower() in COLOUR_WORDS or w.lower() in _COMPARATIVES for w in new_words):
            if mentions(prompt, old):
                return _recolour(prompt, old, " ".join(new_words))
            return _apply_attribute(prompt, f"make {old} {' '.join(new_words)}")
        if re.fullmatch(r"(?:the\s+)?(?:time(?: of day)?|weather|season|style|art style|lighting|light|mood|"
                        r"atmosphere|setting|camera(?: angle)?|angle|view|shot|vibe|look|colou?r scheme|palette)", old, re.I):
            return None  # a scene-wide slot: the scene-term rules handle it
        if not mentions(prompt, old):
            continue
        out, found = _replace_in_prompt(prompt, old, new)
        if not found:
            continue
        return RuleEdit(prompt=out, kind="replace", target=_strip_det(old), added=[_strip_det(new)],
                        removed=[_strip_det(old)], negative=[_strip_det(old)] if _head(old) != _head(new) else [],
                        notes=[f"{_strip_det(old)} → {_strip_det(new)}"])
    return None


_DETERMINER_WORDS = {"a", "an", "the", "some", "his", "her", "their", "its", "my", "our", "your", "this", "that",
                     "these", "those", "two", "three", "four", "five", "several", "many"}
#: English puts opinion, then size, then age before other adjectives and the colour ("a cozy
#: big old frozen blue cabin"); a new adjective goes after those of the kinds before its own.
_OPINION = {"beautiful", "lovely", "cute", "pretty", "ugly", "nice", "cozy", "cosy", "charming", "quaint", "gorgeous",
            "stunning", "scary", "creepy", "elegant", "happy", "sad", "angry", "grumpy", "cheerful"}
_SIZE = {"big", "small", "large", "tiny", "huge", "giant", "little", "tall", "short", "long"}
_AGE = {"old", "young", "new", "ancient", "modern"}


def _adjective_slot(words: list[str], start: int, adjective: str) -> int:
    """Where ``adjective`` goes among ``words[start:]`` (the adjectives after a determiner)."""
    first = adjective.split()[0].lower() if adjective.split() else ""
    before = (set() if first in _OPINION else _OPINION if first in _SIZE else _OPINION | _SIZE if first in _AGE
              else _OPINION | _SIZE | _AGE)
    at = start
    while at < len(words) and words[at].lower() in before:
        at += 1
    return at


def _recolour(prompt: str, thing: str, value: str) -> RuleEdit | None:
    """Give ``thing`` the adjective(s) ``value``: swap its colour word, or put ``value`` before it."""
    value = " ".join(_COMPARATIVES.get(w.lower(), w) for w in value.split())
    head = _head(thing)
    if not head or head.lower() in _PLACEHOLDERS:
        return None
    noun = _noun_pattern(head)
    match = re.search(rf"((?:[\w-]+\s+){{0,3}}?){noun}", prompt, re.I)
    if not match:
        return None
    before = match.group(1)
    is_colour = all(w.lower() in COLOUR_WORDS for w in value.split() if w.lower() != "and")
    said, words = value, before.split()
    # the adjectives between the thing's determiner and its noun ("a [red sports] car")
    det = max((i for i, w in enumerate(words) if w.lower() in _DETERMINER_WORDS), default=None)
    if is_colour:
        at = next((i for i, w in enumerate(words) if w.lower() in COLOUR_WORDS and (det is None or i > det)), None)
        # the new colour goes where the old one was; the thing's other colour words go
        words = [value if i == at else w for i, w in enumerate(words) if i == at or w.lower() not in COLOUR_WORDS]
        if at is None and det is not None:  # after opinion, size and age words: "a big blue wooden house"
            words.insert(_adjective_slot(words, det + 1, value), value)
        value = "" if at is not None or det is not None else value
    else:
        opposite = {"big": {"small", "tiny", "little"}, "small": {"big", "large", "huge", "giant"},
                    "large": {"small", "tiny", "little"}, "old": {"young", "new"}, "young": {"old"},
                    "dark": {"bright", "light"}, "bright": {"dark", "dim"}}
        clash = {value.lower()}
        for word in [value.lower()] + value.lower().split():
            clash |= opposite.get(word, set()) | _ANTONYMS.get(word, set()) | {word}
        kept = [(i, w) for i, w in enumerate(words) if w.lower() not in clash]
        words = [w for _, w in kept]
        if det is not None:  # in English order among the adjectives: "a big red sports car", "a cozy frozen cabin"
            words.insert(_adjective_slot(words, sum(1 for i, _ in kept if i <= det), value), value)
            value = ""
    new_before = " ".join(words + ([value] if value else [])) + " "
    out = prompt[:match.start()] + new_before + prompt[match.start() + len(before):]
    out = re.sub(r"\b(an?)\s+(\w)", lambda m: f"{_article_for(m.group(2))} {m.group(2)}", out)
    return RuleEdit(prompt=_clean(out), kind="colour" if is_colour else "attribute", target=head,
                    added=[f"{said} {head}"], notes=[f"{head} → {said}"])


_KNOWN_ADJECTIVES = {"big", "small", "large", "tiny", "huge", "tall", "short", "old", "young", "bright", "dark",
                     "shiny", "fluffy", "wet", "dry", "happy", "sad", "angry", "smiling", "transparent", "glowing",
                     "striped", "spotted", "wooden", "metal", "metallic", "golden", "round", "square", "long",
                     "curly", "bald", "fat", "thin", "invisible", "broken", "rusty", "new", "clean", "dirty",
                     "empty", "full", "busy", "quiet", "calm", "warm", "cold", "cozy", "dim", "wide", "narrow"}


def _apply_attribute(prompt: str, text: str) -> RuleEdit | None:
    text = re.sub(r"^(make|have)\s+(the\s+[\w'-]+(?:\s+[\w'-]+)?)\s+(?:look|seem|appear|feel)\s+(?:more\s+)?", r"\1 \2 ",
                  text, flags=re.I)
    match = _ATTR_RE.match(text)
    if not match:
        return None
    thing, value = match.group("x"), match.group("y")
    if thing.lower() in _PLACEHOLDERS or re.search(r"\b(?:look|feel|more|less)\b", thing, re.I):
        return None
    words = [w for w in re.split(r"\s+and\s+|\s+", value) if w]
    words = [_adjective_base(w) for w in words]
    if not all(w.lower() in COLOUR_WORDS or w.lower() in _COMPARATIVES or _adjective_like(w) or w.lower() in
               _KNOWN_ADJECTIVES for w in words):
        return None
    if not mentions(prompt, thing):
        if len(_strip_det(thing).split()) > 3 or re.search(r"\b(?:it|this|that|everything|image|picture)\b", thing, re.I):
            return None
        phrase = f"{' '.join(words)} {_strip_det(thing)}"
        segments = _segments(prompt)
        segments.insert(min(1, len(segments)), phrase)
        return RuleEdit(prompt=_join(segments), kind="colour", target=_head(thing), added=[phrase], notes=[f"added {phrase}"])
    return _recolour(prompt, thing, " ".join(words))


_ANTONYMS = {"calm": {"stormy", "rough", "choppy", "wild", "turbulent", "crashing", "raging", "churning"}, "stormy": {"calm", "still", "tranquil"},
             "happy": {"sad", "angry", "grumpy"}, "sad": {"happy", "cheerful", "smiling"}, "old": {"young", "new"},
             "young": {"old", "elderly"}, "new": {"old", "rusty", "broken"}, "clean": {"dirty", "muddy"},
             "dirty": {"clean"}, "wet": {"dry"}, "dry": {"wet"}, "full": {"empty"}, "empty": {"full"},
             "tall": {"short"}, "short": {"tall", "long"}, "long": {"short"}, "fat": {"thin"}, "thin": {"fat"}}
_CROWDED = {"busy", "crowded", "bustling", "packed", "lively", "full", "teeming", "thronged", "noisy"}
_DESERTED = {"empty", "deserted", "quiet", "abandoned", "desolate", "lonely", "silent", "peaceful"}
for _word in _CROWDED:
    _ANTONYMS[_word] = _ANTONYMS.get(_word, set()) | _DESERTED
for _word in _DESERTED:
    _ANTONYMS[_word] = _ANTONYMS.get(_word, set()) | _CROWDED
_ANTONYMS["full"] -= {"quiet", "peaceful", "silent", "lonely"}
_ANTONYMS["empty"] |= {"full"}
_ANTONYMS["bright"] = {"dark", "dim", "gloomy"}
_ANTONYMS["dark"] = {"bright", "sunlit", "cheerful"}


def _drop_antonyms(prompt: str, words: list[str]) -> tuple[str, list[str]]:
    """Drop the prompt's words that contradict the new adjectives ``words`` ("busy" for "empty")."""
    clash = set()
    for word in words:
        clash |= _ANTONYMS.get(word.lower(), set())
    dropped = [w for w in clash if re.search(rf"(?<![\w'-]){re.escape(w)}(?![\w'-])", prompt, re.I)]
    if not dropped:
        return prompt, []
    segments = []
    for seg in _segments(prompt):
        new = seg
        for w in dropped:
            new = re.sub(rf"\s*(?<![\w'-]){re.escape(w)}(?:\s+(?:mood|atmosphere|vibes?))?(?![\w'-])", "", new, flags=re.I)
        new = _clean(re.sub(r"\b(an?)\s+(\w)", lambda m: f"{_article_for(m.group(2))} {m.group(2)}", _clean(new)))
        if new and not re.fullmatch(r"(?:an?|the|and|very)", new, re.I):
            segments.append(new)
    return _join(segments), dropped


def _adjective_base(word: str) -> str:
    low = word.lower()
    if low in _COMPARATIVES:
        return _COMPARATIVES[low]
    if low.endswith("ier") and len(low) > 5:
        return low[:-3] + "y"
    return word


_NOT_ADJECTIVES = {"fly", "cry", "try", "apply", "reply", "carry", "bury", "marry", "hurry", "worry", "copy",
                   "deny", "envy", "study", "party", "baby", "city", "lady", "body", "army", "story", "sky", "toy",
                   "boy", "day", "way", "key", "guy", "animal", "metal", "crystal", "hospital", "plant", "giant",
                   "elephant", "tent", "parent", "student", "library", "diary", "need", "bed", "red", "shed", "sled"}
_ABSTRACT = {"drama": "dramatic", "mystery": "mysterious", "detail": "highly detailed", "details": "highly detailed",
             "contrast": "high contrast", "color": "colorful", "colors": "colorful", "colour": "colorful",
             "colours": "colorful", "magic": "magical", "energy": "energetic", "movement": "dynamic motion",
             "motion": "dynamic motion", "depth": "depth of field", "warmth": "warm tones", "life": "lively",
             "texture": "richly textured", "atmosphere": "atmospheric", "action": "action-packed", "glow": "glowing",
             "sparkle": "sparkling", "shine": "shiny", "light": "bright", "darkness": "dark", "realism": "photorealistic",
             "fun": "playful", "chaos": "chaotic", "romance": "romantic", "horror": "horror", "emotion": "emotional"}


_PARTICIPLE_ADJECTIVES = {"frozen", "broken", "golden", "wooden", "rotten", "sunken", "fallen", "hidden", "molten",
                          "woolen", "woollen", "silken", "swollen", "overgrown", "stolen", "forgotten", "forbidden",
                          "withered", "abandoned", "haunted", "ruined", "flooded", "burnt", "burned", "lit"}


def _adjective_like(word: str) -> bool:
    low = word.lower()
    if low in _PARTICIPLE_ADJECTIVES:
        return True
    if low in _NOT_ADJECTIVES or len(low) < 4:
        return low in _ANTONYMS
    return bool(re.fullmatch(r"[a-z-]+(?:y|ful|ous|ive|ic|ed|less|ish|al|ent|ant|ary|some)", low)) or low in _ANTONYMS


def _apply_bare_attribute(prompt: str, text: str) -> RuleEdit | None:
    """"black cat" / "a fluffier cat" when the cat is already there: give it those adjectives."""
    words = _strip_det(text).split()
    if not 2 <= len(words) <= 3:
        return None
    adjectives = [_adjective_base(w) for w in words[:-1]]
    if not mentions(prompt, words[-1]):
        # "bigger waves", "a brighter sky" when there are none yet: add them as described
        if all(w.lower() in _COMPARATIVES or (w.lower().endswith("er") and a.lower() != w.lower() and _adjective_like(a))
               for w, a in zip(words[:-1], adjectives)) and re.fullmatch(r"[a-z]{3,}", words[-1].lower()) and \
                words[-1].lower() not in COLOUR_WORDS | _KNOWN_ADJECTIVES and not find_terms(words[-1]):
            return _apply_add(prompt, "add " + " ".join([_COMPARATIVES.get(w.lower(), a) for w, a in zip(words[:-1], adjectives)]
                                                        + [words[-1]]))
        return None
    if not all(a.lower() in COLOUR_WORDS or _adjective_like(a) or a.lower() in _COMPARATIVES.values() for a in adjectives):
        return None
    return _recolour(prompt, words[-1], " ".join(adjectives))


def _apply_add(prompt: str, text: str) -> RuleEdit | None:
    for pattern in _ADD_RE:
        match = pattern.match(text)
        if not match:
            continue
        thing = _clean(re.sub(r"\s+instead$", "", match.group("x"), flags=re.I))
        if re.match(r"^(?:more|extra|less|fewer|some more|a bit more|a little more)\s", thing, re.I):
            return _apply_more_less(prompt, thing)
        if thing.lower() in _ABSTRACT:
            return _apply_modifier(prompt, f"make it more {_ABSTRACT[thing.lower()]}")
        thing = re.sub(r"\s+(?:to|in|into)\s+(?:the|this)\s+(?:image|picture|scene|photo|painting)$", "", thing, flags=re.I)
        if not thing or thing.lower() in _PLACEHOLDERS:
            return None
        verb = text.split()[0].lower()
        # "put the cat on the sofa": moving something already there
        if verb in ("put", "place", "move") and re.match(r"^(?:the|his|her|its)\s", thing, re.I) and mentions(prompt, thing):
            return _apply_move(prompt, thing)
        if re.match(r"^(?:the|his|her|its)\s", thing, re.I) and mentions(prompt, thing):
            return None
        if re.match(r"^(?:give)\b", text, re.I):
            subject = re.match(r"^give (?:it|him|her|them|the (\w+))", text, re.I)
            thing = f"with {thing}" if not re.match(r"with\b", thing) else thing
            if subject and subject.group(1) and mentions(prompt, subject.group(1)):
                return _attach(prompt, subject.group(1), thing)
            if not subject.group(1):  # "give it a hat": the picture's main subject gets it
                main = _head(_subject(_depicted(prompt)) or "")
                concrete = main and main.lower() not in _PLACEHOLDERS and not find_terms(main)
                return _attach(prompt, main if concrete else None, thing)
        if not re.match(rf"^(?:{_DETERMINERS}|\d+|many|several|lots of|a few|few)\b", thing, re.I) and \
                not find_terms(thing) and len(thing.split()) <= 3 and not thing.endswith("s"):
            thing = f"{_article_for(thing)} {thing}"
        if find_terms(thing) and _strip_det(thing).lower() in {t for t, _ in find_terms(thing)}:
            return None  # "add some fog": a scene term; let _apply_scene_terms handle it
        segments, tail = _split_style_tail(_segments(prompt))  # keep a style phrase at the end
        return RuleEdit(prompt=_join(segments + [thing] + tail), kind="add", target=_strip_det(thing),
                        added=[_strip_det(thing)], notes=[f"added {thing}"])
    return None


_MEDIUM_OF = re.compile(r"^(?:an?\s+)?(?:[\w'-]+\s+){0,2}?(?:portrait|photo|photograph|picture|painting|image|drawing|"
                        r"illustration|sketch|render|close-up|shot)\s+of\s+(?P<rest>.+)$", re.I)


def _depicted(prompt: str) -> str:
    """The prompt from what it shows: "a cat on a sofa" for "a photo of a cat on a sofa"."""
    first = _segments(prompt)[0] if prompt else ""
    medium = _MEDIUM_OF.match(first)
    return medium.group("rest") if medium else prompt


def _attach(prompt: str, subject: str | None, phrase: str) -> RuleEdit:
    segments = _segments(prompt)
    index, at = 0, None
    if subject:
        for i, seg in enumerate(segments):
            found = re.search(_noun_pattern(subject), seg, re.I)
            if found:
                index, at = i, found.end()
                break
    seg = segments[index]
    # right after the thing it belongs to: "a robot with a hat in a garden", not "a garden with a hat"
    segments[index] = f"{seg} {phrase}" if at is None else f"{seg[:at]} {phrase}{seg[at:]}"
    thing = _strip_det(re.sub(r"^with\s+", "", phrase))
    return RuleEdit(prompt=_join(segments), kind="add", target=thing, added=[thing], notes=[f"added {thing}"])


#: Where a thing is, not what it does: dropped with the old place when it moves.
_POSTURES = ("sitting", "standing", "lying", "resting", "parked", "perched", "placed", "floating", "hanging")
#: An old place after the thing ("… sitting on a porch"), removed when it is put somewhere else.
_OLD_PLACE = re.compile(rf"^\s*(?:(?:is\s+)?(?:{'|'.join(_POSTURES)})\s+)?(?:on|in|at|under|over|behind|beside|next to|"
                        r"near|inside|in front of)\s+(?:the|a|an)?\s*[\w-]+"
                        r"(?:\s+(?!(?:next|to|with|and|near|by|beside|in|on|at|of)\b)[\w-]+)?", re.I)


def _apply_move(prompt: str, thing: str) -> RuleEdit | None:
    parts = re.match(r"^(?P<obj>.+?)\s+(?P<where>(?:on|in|at|under|over|behind|beside|next to|near|inside|onto|into|in front of)\b.+)$", thing, re.I)
    if not parts:
        return None
    obj, where = parts.group("obj"), parts.group("where")
    head = _head(obj)
    noun = _noun_pattern(head)
    segments = _segments(prompt)
    for i, seg in enumerate(segments):
        match = re.search(noun, seg, re.I)
        if match:
            before = seg[:match.end()]
            after = seg[match.end():]
            doing = re.match(r"^\s*(?P<v>[a-z]+ing)\s+(?=(?:on|in|at|under|over|behind|beside|next to|near|inside|in front of)\b)",
                             after, re.I)
            if doing and doing.group("v").lower() not in _POSTURES:  # "a cat sleeping on …": it sleeps on the sofa now
                before, after = f"{before} {doing.group('v')}", after[doing.end():]
            after = _OLD_PLACE.sub("", after)
            after = re.sub(r"^\s*of\s+(?:the|a|an)\s+[\w-]+(?:\s+[\w-]+)?", "", after, flags=re.I)  # "…porch of a wooden house"
            segments[i] = _clean(f"{before} {where} {after}")
            return RuleEdit(prompt=_join(segments), kind="position", target=head, added=[where],
                            notes=[f"put the {head} {where}"])
    return None


def _apply_modifier(prompt: str, text: str) -> RuleEdit | None:
    match = _MODIFIER_RE.match(text)
    if not match:
        return None
    value = _clean(match.group("y"))
    if not value or len(value.split()) > 4:
        return None
    if value.lower() in _COMPARATIVES:
        value = _COMPARATIVES[value.lower()]
    if match.group("more") and match.group("more").lower() == "less":
        opposite = _OPPOSITES.get(value.lower())
        if opposite and not re.search(rf"\b{re.escape(value)}\b", prompt, re.I):
            # "less saturated" with nothing saturated in the prompt: ask for the opposite ("muted colors")
            edit = _apply_modifier(prompt, f"make it more {opposite.removeprefix('more ')}")
            if edit is not None:
                edit.negative.append(value)
                return edit
        new = re.sub(rf",?\s*\b{re.escape(value)}\b", "", prompt, flags=re.I)
        return RuleEdit(prompt=_clean(new) or prompt, kind="modifier", target=value, removed=[value], negative=[value],
                        notes=[f"less {value}"])
    prompt, dropped = _drop_antonyms(prompt, value.split())
    if re.search(rf"\b{re.escape(value)}\b", prompt, re.I):
        phrase = f"very {value}" if len(value.split()) == 1 else value
        new = re.sub(rf"\b(?:very\s+)?{re.escape(value)}\b", phrase, prompt, count=1, flags=re.I)
    else:
        segments = _segments(prompt)
        segments.insert(1 if len(segments) > 1 else len(segments), value)
        new = _join(segments)
    return RuleEdit(prompt=new, kind="modifier", target=value, added=[value],
                    notes=[f"more {value}"] + ([f"dropped {', '.join(sorted(dropped))}"] if dropped else []))


_MORE_RE = re.compile(r"^(?:more|extra|lots of|lots more|a lot more|much more|even more|some more)\s+(?P<y>.+)$", re.I)
_LESS_RE = re.compile(r"^(?:less|fewer|not so much|not as much|tone down(?: the)?|reduce(?: the)?)\s+(?P<y>.+)$", re.I)
_WHATIF_RE = re.compile(r"^(?:what if|what about|how about|maybe with|could there be|can (?:it|there) (?:have|be)|"
                        r"it needs|it should have|needs|there needs to be|there should be|i'd love)\s+"
                        r"(?:there (?:was|were|is|are)\s+|it (?:was|were|is|had)\s+|we (?:add|had|have)\s+|adding\s+|making it\s+)?(?P<x>.+)$", re.I)


def _apply_more_less(prompt: str, text: str) -> RuleEdit | None:
    more = _MORE_RE.match(text)
    if more:
        value = _clean(more.group("y"))
        if re.search(rf"\b{re.escape(value)}\b", prompt, re.I) or find_terms(value):
            return _apply_scene_terms(prompt, value) or _apply_modifier(prompt, f"make it more {value}")
        if value.lower() in _ABSTRACT:
            return _apply_modifier(prompt, f"make it more {_ABSTRACT[value.lower()]}")
        if len(value.split()) == 1 and _adjective_like(value) and not value.lower().endswith("s"):
            return _apply_modifier(prompt, f"make it more {value}")
        return _apply_add(prompt, f"add {value}")
    less = _LESS_RE.match(text)
    if less:
        value = _clean(less.group("y"))
        return _apply_modifier(prompt, f"make it less {value}")
    whatif = _WHATIF_RE.match(text)
    if whatif:
        value = _clean(whatif.group("x"))
        return (_apply_scene_terms(prompt, value) or _apply_remove(prompt, value) or _apply_replace(prompt, value)
                or _apply_attribute(prompt, value) or _apply_add(prompt, f"add {value}"))
    return None


_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "several": 0, "many": 0, "a few": 0, "some": 0}
_VERB_RE = re.compile(r"^(?:make|have|let|get)\s+(?P<x>(?:the|his|her|its|their)\s+[\w'-]+(?:\s+[\w'-]+)??)\s+(?P<v>[a-z]+)"
                      r"(?P<rest>(?:\s+(?:on|onto|in|at|with|under|over|through|across|around|into|toward|towards|up|down|away|"
                      r"a|an|the|some)\b.*)?)$|^(?P<x2>the\s+[\w'-]+)\s+(?:(?:is|are|should be|could be|starts?|begins?)\s+)?(?P<v2>[a-z]{3,}ing)(?P<rest2>\s.*)?$", re.I)
# "have the dragon breathe fire", "make the girl ride a bike": a verb with a bare object
_VERB_OBJECT_RE = re.compile(r"^(?:make|have|let|get)\s+(?P<x>(?:the|his|her|its|their)\s+[\w'-]+)\s+(?P<v>[a-z]+)"
                             r"(?P<rest>\s+[\w'-]+(?:\s+[\w'-]+){0,3})$", re.I)


_ING_NOUNS = {"morning", "evening", "painting", "building", "ceiling", "clothing", "spring", "king", "ring", "wing",
              "string", "thing", "nothing", "something", "everything", "lighting", "ending", "wedding", "pudding",
              "railing", "sibling", "ping", "swing", "sling", "sting", "awning", "icing", "stuffing", "darling",
              "dumpling", "duckling", "seedling", "sapling", "earring", "offspring", "setting", "background"}


def _gerund(verb: str) -> str:
    verb = verb.lower()
    if verb.endswith("ing"):
        return verb
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")):
        return verb[:-1] + "ing"
    if (len(verb) >= 3 and verb[-1] not in "aeiouwxy" and verb[-2] in "aeiou" and verb[-3] not in "aeiou"
            and len(verb) <= 4):
        return verb + verb[-1] + "ing"
    return verb + "ing"


def _apply_action(prompt: str, text: str) -> RuleEdit | None:
    """"make the cat sleep", "have the dog jump over the fence", "the cat is sleeping"."""
    for pattern in (_VERB_RE, _VERB_OBJECT_RE):
        match = pattern.match(text)
        if not match:
            continue
        thing = match.group("x") or match.group("x2")
        verb = match.group("v") or match.group("v2")
        rest = _clean(match.group("rest") or match.group("rest2") or "")
        if not mentions(prompt, thing) or verb.lower() in COLOUR_WORDS or _adjective_like(verb) or \
                verb.lower() in ("a", "an", "the", "be", "look", "feel", "seem", "bigger", "smaller") or find_terms(verb) or \
                verb.lower() in _ING_NOUNS or \
                pattern is _VERB_OBJECT_RE and (mentions(prompt, verb) or find_terms(rest) or verb.lower() in _KNOWN_ADJECTIVES
                                                or verb.lower() in _NOT_ADJECTIVES or all(
                    w.lower() in COLOUR_WORDS or w.lower() in _KNOWN_ADJECTIVES or _adjective_like(w) for w in rest.split())):
            continue
        break
    else:
        return None
    if verb.lower() in ("wear", "hold", "carry", "eat", "ride", "drink", "read") and not rest:
        return None
    action = _gerund(verb) + (f" {rest}" if rest else "")
    noun = _noun_pattern(_head(thing))
    segments = _segments(prompt)
    for i, seg in enumerate(segments):
        found = re.search(noun, seg, re.I)
        if not found:
            continue
        after = seg[found.end():]
        # replace the participle that follows the noun ("sitting on a windowsill" keeps "on a windowsill")
        participle = re.match(r"^\s+([a-z]+ing)\b", after, re.I)
        transitive = participle and re.match(
            r"^\s+(?!(?:on|in|at|under|over|through|across|around|into|onto|by|near|beside|next|with|from|to|along|"
            r"down|up|toward|towards|past|behind|inside|outside|against|beneath|below|above)\b)[a-z]", after[participle.end():], re.I)
        if transitive:  # "mending nets": keep what it was doing, with the new action first
            segments[i] = _clean(f"{seg[:found.end()]} {action} and{after}")
            return RuleEdit(prompt=_join(segments), kind="attribute", target=_head(thing), added=[action],
                            notes=[f"the {_head(thing)} is now {action}"])
        if participle:
            after = after[participle.end():]
            # a new place for the action replaces the old one ("sit on the sofa" drops "on a windowsill"),
            # but "over a log" or "on its hind legs" is not a place: "in a meadow" stays
            if rest and re.match(r"^\s+(?:on|in|at|inside)\b", after) and \
                    re.match(r"^(?:on|in|at|into|onto|inside)\s+(?!(?:its|his|her|their|my|your)\b)", rest):
                after = re.sub(r"^\s+(?:on|in|at|under|over|through|across|around|into)\s+(?:(?:a|an|the)\s+)?[\w'-]+", "", after)
        segments[i] = _clean(f"{seg[:found.end()]} {action}{after}")
        return RuleEdit(prompt=_join(segments), kind="attribute", target=_head(thing), added=[action],
                        notes=[f"the {_head(thing)} is now {action}"])
    return None


def _apply_count(prompt: str, text: str) -> RuleEdit | None:
    """"two cats instead of one", "make it three dogs", "add another cat"."""
    match = re.match(r"^(?:make it\s+|i want\s+|let's have\s+|have\s+|draw\s+)?(?P<n>two|three|four|five|six|several|many|a few)\s+"
                     r"(?P<x>[\w'-]+?)s?(?:\s+instead(?: of (?:one|just one|a single one|1))?)?$", text, re.I)
    another = re.match(r"^(?:add|put|draw|include)\s+(?:another|a second|one more)\s+(?P<x>[\w'-]+)$", text, re.I)
    if not match and not another:
        return None
    noun = (match or another).group("x")
    if not mentions(prompt, noun):
        return None
    count = match.group("n").lower() if match else "two"
    pattern = re.compile(rf"\b(?:a|an|one|the)\s+((?:[\w'-]+\s+){{0,2}}?){_noun_pattern(noun)}", re.I)
    found = pattern.search(prompt)
    if not found:
        return None
    plural = noun if noun.endswith("s") else (noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou"
                                              else noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s"))
    out = prompt[:found.start()] + f"{count} {found.group(1)}{plural}" + prompt[found.end():]
    return RuleEdit(prompt=out, kind="add", target=noun, added=[plural], notes=[f"now {count} {plural}"])


_LOOK_LIKE = re.compile(r"^(?:what would it look like|what does it look like|show (?:it|me it|me)|imagine it|picture it|"
                        r"how would it look)\s+(?P<x>(?:in|at|on|as|with|during|under|inside|underwater|if)\b.*)$", re.I)


def _apply_look_like(prompt: str, text: str) -> RuleEdit | None:
    match = _LOOK_LIKE.match(text)
    if not match:
        return None
    value = _clean(re.sub(r"^if\s+(?:it\s+)?(?:was|were|is)\s+", "", match.group("x"), flags=re.I))
    settings = {"in the future": "futuristic, in the future", "in the past": "historical, in the past",
                "in space": "in outer space", "underwater": "underwater", "in the 1920s": "1920s vintage style"}
    if value.lower() in settings:
        phrase = settings[value.lower()]
        segments = _segments(prompt)
        segments.insert(min(1, len(segments)), phrase)
        return RuleEdit(prompt=_join(segments), kind="modifier", target=value, added=[phrase], notes=[f"added {phrase}"])
    located = re.match(r"^(?:in|at|on|during|under|inside)\b", value, re.I)
    return (_apply_scene_terms(prompt, value) or _apply_replace(prompt, value)
            or (_apply_modifier(prompt, f"make it {value}") if located else _apply_add(prompt, f"add {value}")))


_NAMED_STYLE = re.compile(
    r"^(?:(?:make|do|render|paint|draw|redo|turn|show|change)\s+(?:it|this|that|the (?:image|picture|scene|whole thing))\s+"
    r"(?:(?:look|feel)\s+)?|(?:(?:switch|change|go)\s+(?:it\s+)?to\s+))?(?:(?:like|as|into|in)\s+)?(?:an?\s+)?"
    r"(?:(?P<x>[a-z0-9][\w'-]*(?:\s+[\w'-]+){0,3}?)[- ](?:style|aesthetic|look)|"
    r"(?P<y>[a-z][\w'-]*(?:\s+[\w'-]+){0,2}?\s+(?:painting|photo|photograph|drawing|illustration|sketch|print|poster|"
    r"cartoon|comic|film still|movie still|mural|fresco|tapestry|engraving|etching)))$", re.I)


def _apply_named_style(prompt: str, text: str) -> RuleEdit | None:
    """"victorian style", "make it look like a renaissance painting", "1950s aesthetic": a style the
    lexicon does not list replaces the prompt's style (the words as said, "style" kept)."""
    match = _NAMED_STYLE.match(text)
    if not match:
        return None
    x = match.group("x") or match.group("y")
    if x.split()[0].lower() in _PLACEHOLDERS | {"it", "this", "that", "same", "different", "other", "another", "new", "old",
                                                   "my", "your", "his", "her", "their", "its"} or x.lower() in prompt.lower():
        return None
    if find_terms(x) and not match.group("y"):  # "anime style": the scene-term rules know it
        return None
    phrase = x if match.group("y") else f"{x} style"
    new = _remove_category(prompt, "style")
    segments = _segments(new) + [phrase]
    return RuleEdit(prompt=_join(segments), kind="style", target=phrase, added=[phrase], notes=[f"style: {phrase}"])


_HANDLERS = ()  # filled below, once every handler is defined


def split_clauses(text: str) -> list[str]:
    """Split "make it night and add a moon, then remove the car" into separate requests."""
    verbs = r"(?:add|remove|delete|make|change|turn|put|give|replace|swap|get rid|take|draw|include|set|paint|move|no|without|erase|drop|let)"
    parts = re.split(rf"\s*(?:;|\bthen\b|\band then\b|,\s*(?:and\s+)?(?=(?:{verbs}|more|less|not|but)\b)|\s+and\s+(?:also\s+)?(?={verbs}\b)|\.\s+)\s*", text, flags=re.I)
    return [p for p in (_clean(x) for x in parts) if p]


def _scene_with_extra(prompt: str, clause: str) -> RuleEdit | None:
    """"make it night with a full moon", "make it winter and snowing hard": a scene-wide change
    (time of day, season, ...) followed by an extra clause after "with"/"and"/"plus". The scene
    part replaces the old value as usual; the extra part is applied as its own request, or added
    as a thing. None unless both halves are understood."""
    for match in re.finditer(r"\s+(?:with|and(?: also)?|plus)\s+", clause, re.I):
        head, extra = _clean(clause[:match.start()]), _clean(clause[match.end():])
        if not head or not extra:
            continue
        scene = _apply_scene_terms(prompt, head)
        if scene is None or scene.kind not in EXCLUSIVE:
            continue
        second = None
        for handler in _HANDLERS:
            if handler is _apply_bare_thing:
                continue  # "a full moon" is attached below, not listed as a separate thing
            second = handler(scene.prompt, extra)
            if second is not None:
                break
        if second is None and match.group(0).strip().lower() == "with" and scene.added:
            # "night with a full moon": the thing joins the phrase it came with ("… at night with a full moon")
            bare = re.match(rf"^(?:{_DETERMINERS}|\d+|many|several|a few)\b", extra, re.I) or extra.endswith("s") or \
                re.search(r"\w+ing\b", extra) or len(extra.split()) > 3
            thing = extra if bare else f"{_article_for(extra)} {extra}"
            segments = _segments(scene.prompt)
            where = next((i for i, seg in enumerate(segments) if scene.added[-1].lower() in seg.lower()), None)
            if where is not None:
                segments[where] = f"{segments[where]} with {thing}"
                second = RuleEdit(prompt=_join(segments), kind="add", target=_strip_det(thing),
                                  added=[_strip_det(thing)], notes=[f"added {thing}"])
        if second is None:
            second = _apply_add(scene.prompt, f"add {extra}")
        if second is not None:
            return RuleEdit(prompt=second.prompt, kind=scene.kind, target=f"{scene.target}; {second.target}",
                            added=scene.added + second.added, removed=scene.removed + second.removed,
                            negative=scene.negative + second.negative, notes=scene.notes + second.notes)
    return None


_EDIT_WORDS = frozenset("""
    make makes made change changes changed add adds added remove removes removed delete erase replace swap switch
    turn put set move keep drop more less now it its it's this that these those them they instead also too again
    only just but another same other back please pls can could would should want wanted let give no not without
    don't dont bigger smaller larger brighter darker redo undo still rather than
    """.split())
_POSITIONS = frozenset("left right top bottom center centre middle foreground background distance horizon corner "
                       "side edge front back sky".split())
_MEDIUM_LEAD = re.compile(r"^(?:an?|one)\s+(?:[\w-]+\s+){0,2}?(?:portrait|photo|photograph|picture|painting|drawing|"
                          r"sketch|illustration|render|image|watercolou?r|close-?up|view|still life|landscape)\s+of\s+", re.I)


def standalone_scene(prompt: str | None, message: str) -> str | None:
    """The new prompt when ``message``, typed mid-conversation, is a complete description of a
    different picture ("a portrait of an old sailor, charcoal sketch") rather than an edit.

    Deliberately conservative, because starting over throws the current picture away:

    * it starts like a description (an article or a number: "a …", "two …");
    * it has no edit wording: no verb such as make/change/add/remove/turn, no pronoun or word
      that points at the current image (it, this, more, less, now, instead, …), and no "the X"
      where X is already in the picture ("the cabin"); "on the left" and other positions are fine;
    * it reads as a whole scene, not a single thing: several comma-separated parts, or a
      "a portrait/photo/painting of …" lead, and at least four words;
    * it shares few content words with the current prompt (a restatement of the current
      scene with one change is left to the edit rules).

    So a bare "a cat" does *not* start over: mid-conversation a lone noun phrase is usually
    shorthand for "add a cat", and the add rule (or the LLM) handles it; a wrong start-over would
    cost the whole picture, a wrong add only one undo."""
    if not prompt:
        return None
    text = _clean(message)
    lowered = text.lower()
    if not re.match(r"^(?:an?|one|two|three|four|five|six|some|several|many)\s", lowered):
        return None
    words = re.findall(r"[a-z][a-z'-]*", lowered)
    if len(words) < 4 or any(w in _EDIT_WORDS for w in words):
        return None
    for match in re.finditer(r"\bthe\s+([a-z][\w'-]*)", lowered):
        noun = match.group(1)
        if noun not in _POSITIONS and mentions(prompt, noun):
            return None
    if len(_segments(text)) < 2 and not _MEDIUM_LEAD.match(text):
        return None
    asked = content_words(text)
    if not asked or len(asked & content_words(prompt)) / len(asked) >= 0.5:
        return None
    return first_prompt(text)


def last_added(history: list[tuple[str, str]]) -> str | None:
    """The head noun of the one thing the last turn added ("a dog" -> "dog"), if that is what it did."""
    if len(history) < 2 or not re.match(r"^\s*(?:\w+[,!.]?\s+){0,3}?(?:add|put|place|include|insert|draw|give)\b",
                                         history[-1][0], re.I):
        return None
    before = {seg.lower() for seg in _segments(history[-2][1])}
    new = [seg for seg in _segments(history[-1][1]) if seg.lower() not in before]
    if len(new) != 1 or len(new[0].split()) > 6:
        return None
    head = _head(new[0])
    return head if head and re.fullmatch(r"[a-z][\w'-]*", head, re.I) else None


def _object_reading(prompt: str, message: str, history: list[tuple[str, str]]) -> RuleEdit | None:
    """"add a dog" then "make it bigger" / "remove it" / "put it next to the cabin" / "another one":
    "it" is the thing just added, unless the message is about the whole picture ("make it night")."""
    thing = last_added(history)
    text = normalise_request(message)
    pronoun = r"\b(?:it|them)\b|\b(?:that|this|those|these)$"  # "remove it", "remove that"
    if not thing and len(history) >= 2 and any(p.match(text) for p in _REMOVE_RE) and \
            re.search(pronoun, text, re.I):
        # "make the car red" then "actually remove it": the thing the last request named
        named = re.findall(r"\bthe\s+([a-z][\w'-]*)", normalise_request(history[-1][0]), re.I)
        named = [n for n in named if mentions(prompt, n) and n.lower() not in ("image", "picture", "scene", "background", "sky")]
        thing = named[0] if len(named) == 1 else None
    if not thing or not mentions(prompt, thing):
        return None
    if re.fullmatch(r"(?:and\s+)?(?:another|one more|a second)(?: one)?", text, re.I):
        return _apply_count(prompt, f"add another {thing}")
    if not re.search(pronoun, text, re.I) or len(split_clauses(text)) > 1:
        return None
    if any(h(prompt, text) is not None for h in (_apply_scene_terms, _apply_vague, _apply_look_like, _scene_with_extra)):
        return None  # "make it night", "make it nicer": the whole picture
    alt = re.sub(pronoun, f"the {thing}", text, flags=re.I)
    for handler in _HANDLERS:
        result = handler(prompt, alt)
        if result is not None:
            return result
    return None


_BARE_RESTART_RE = re.compile(rf"^{_RESTART}(?:,?\s+please)?[.!]*$", re.I)


def is_bare_restart(message: str) -> bool:
    """"start over" with nothing after it: the next message describes the new picture."""
    return _BARE_RESTART_RE.match(normalise_request(message) or "") is not None


def restart_request(message: str, history: list[tuple[str, str]] | None = None) -> RuleEdit | None:
    """A new picture when ``message`` says to start over and what to paint ("start over with a
    green triangle", "scrap that, draw a yellow square"), or follows a bare "start over"; else
    ``None``. Asked before any edit reading: "a green triangle" there describes the new
    picture, not a change to this one."""
    text = normalise_request(message)
    match = _NEW_RE.match(text) if text else None
    subject = _new_subject(match)
    if not subject and text and not match and history and is_bare_restart(history[-1][0]):
        subject = first_prompt(text)
    return _new_picture(subject) if subject else None


def _new_subject(match: re.Match | None) -> str:
    """What a ``_NEW_RE`` / ``_INSTEAD_RE`` match says to paint ("" when it says nothing)."""
    return first_prompt(match.group("x")) if match and match.group("x") else ""


def _new_picture(prompt: str) -> RuleEdit:
    return RuleEdit(prompt=prompt, kind="new", target=prompt, added=[prompt], notes=["new picture"])


def apply_rules(prompt: str, message: str, *, partial: bool = False,
                history: list[tuple[str, str]] | None = None) -> RuleEdit | None:
    """The updated prompt when every part of ``message`` fits a known edit; else None.
    ``partial=True`` (a later resort): the parts that fit are applied, a part that does not is
    added literally when it qualifies (``literal_request``), else left out and named in the notes
    ("not done: …"); None unless at least one part was applied."""
    text = resolve_kinds(prompt, resolve_pronouns(prompt, normalise_request(message)))
    if not text:
        return None
    text = _bare_instead(text)
    back = re.match(r"^(?:go\s+|switch\s+|change it\s+)?back to\s+(?:being\s+)?(?:an?\s+)?(?P<x>[\w -]+)$", text, re.I)
    if back and find_terms(back.group("x")):
        # "back to realistic" when no earlier turn had it (history answers first): just that value
        text = f"make it {back.group('x')}"
    if history and not partial:
        reading = _object_reading(prompt, message, history)
        if reading is not None:
            return reading
    scene = standalone_scene(prompt, message)
    if scene:
        return _new_picture(scene)
    new_match = _NEW_RE.match(text) or _INSTEAD_RE.match(text)
    if new_match:
        subject = _new_subject(new_match)
        return _new_picture(subject) if subject else None
    clauses = split_clauses(text)
    current = prompt
    results: list[RuleEdit] = []
    skipped: list[str] = []
    for clause in clauses:
        clause = _bare_instead(normalise_request(clause))
        result = None
        for handler in _HANDLERS:
            result = handler(current, clause)
            if result is not None:
                break
        if result is None and partial and len(clauses) > 1:
            result = literal_request(current, clause)
            if result is None:
                skipped.append(clause)
                continue
        if result is None:
            return None
        current = result.prompt
        results.append(result)
    if not results or (partial and not skipped and all(r.kind != "literal" for r in results)):
        return None  # partial=True is only for what the whole-message pass could not do
    merged = RuleEdit(prompt=current, kind=results[0].kind if len(results) == 1 else "multi",
                      target="; ".join(r.target for r in results if r.target))
    for r in results:
        merged.added += r.added
        merged.removed += r.removed
        merged.negative += r.negative
        merged.notes += r.notes
    if skipped:
        merged.notes.append(f"not done: {'; '.join(skipped)}")
    return merged


# _HANDLERS (the order requests are tried in) is set at the end of the module, once every handler is defined.


def content_words(text: str) -> set[str]:
    stop = {"a", "an", "the", "of", "in", "on", "at", "with", "and", "to", "is", "are", "by", "for", "it",
            "its", "this", "that", "very", "some", "from", "into", "as", "style"}
    return {w for w in re.findall(r"[a-z][a-z'-]+", text.lower()) if w not in stop}


def check_prompt(candidate: str, previous: str | None, expected: RuleEdit | None) -> bool:
    """Whether an LLM's prompt is acceptable: it keeps most of the previous prompt and, when the
    rules understood the request, carries what was added and drops what was removed."""
    if not candidate:
        return False
    words = content_words(candidate)
    if previous:
        before = content_words(previous)
        removed = set().union(*(content_words(r) for r in expected.removed)) if expected and expected.removed else set()
        keep = before - removed
        if expected and expected.kind == "new":
            keep = set()
        if keep and len(keep & words) / len(keep) < 0.75:
            return False
    if expected is not None:
        for phrase in expected.added:
            head = _head(phrase)
            if head and not re.search(_noun_pattern(head), candidate, re.I):
                return False
        for phrase in expected.removed:
            head = _head(phrase)
            if head and re.search(_noun_pattern(head), candidate, re.I):
                return False
    return True


# ------------------------------------------------------------------------ history-aware
_UNDO_LAST = re.compile(
    r"^(?:undo|revert|reverse|cancel|take back|scratch|drop|forget|roll back|rollback|go back|step back|back)"
    r"(?:\s+(?:that|this|it|that one|the last(?:\s+(?:one|change|edit|step|thing|turn|request))?|"
    r"last(?:\s+(?:one|change|edit|step|time))?|my last(?:\s+\w+)?|the previous(?:\s+(?:one|change|edit|step|version|image|picture))?|"
    r"that last(?:\s+(?:one|change|edit|step))?|the change|that change|the edit|that edit|one step|one more(?: step| time)?|"
    r"to (?:how it was|the way it was|what it was|what we had|the previous(?:\s+(?:one|version|image|picture))?|"
    r"the last(?:\s+(?:one|version|image|picture))?|before|the one before)(?:\s+before)?|"
    r"to how it looked(?:\s+before)?))?(?:\s+(?:please|again))?$|"
    r"^(?:i liked|i preferred) (?:it|the (?:previous|last|old) (?:one|version|image|picture)) (?:better|more)(?:,? (?:go|change it|put it) back)?$|"
    r"^(?:that was|it was) better before$|^(?:put|change) it back(?: (?:the way|how) it was)?$", re.I)
_UNDO_ALL = re.compile(
    r"^(?:(?:go |take it |put it |change it |bring it )?back to (?:the )?(?:original|start|beginning|very first|first (?:one|version|picture|image))"
    r"(?: one| version| picture| image)?|(?:revert|undo|reverse|cancel|change|put) (?:all|everything|all (?:the |my |of the )?changes|all of it|it all)"
    r"(?: back)?|reset(?: it| everything| all| the (?:image|picture|scene))?|start from the (?:first|original) one(?: again)?|"
    r"(?:make it |put it )?(?:like|as|how) it was (?:at|in) the (?:start|beginning)|(?:the )?original(?: one| version| picture| image)?(?: please)?)$",
    re.I)
_UNDO_N = re.compile(r"^(?:undo|revert|reverse|cancel|roll back|rollback|take back|go back|step back|back)\s+(?:(?P<twice>twice)|(?:the )?(?:last )?(?P<n>two|three|four|2|3|4)"
                     r"(?: (?:changes|steps|edits|turns|times|versions))?)$|"
                     r"^(?:(?:like|as|how|the way)(?: it was)?\s+|(?:go |change it |put it )?back to (?:how it was |the way it was |what it was )?)?"
                     r"(?P<m>two|three|four|2|3|4) (?:versions|steps|changes|edits|turns|messages) (?:ago|back|before)$", re.I)
_UNDO_LIKE = re.compile(r"^(?:(?:make it |put it |leave it )?(?:as|like|how) it was(?: before)?|the way it was(?: before)?|"
                        r"(?:make it |put it )?(?:like|as) before|(?:the )?previous (?:one|version|image|picture)|"
                        r"(?:the )?(?:one|version) before)$", re.I)
_MEANT = re.compile(r"^(?:no+|nope|sorry|oops|wait)?[,!.\s]*(?:sorry[,!.\s]*)?(?:i said that wrong[,!.\s]*)?"
                    r"(?:i meant|i mean|i wanted|make that|i said)\s+(?P<x>.+)$|"
                    r"^not (?:that|this|the)\s+\w+(?:\s+\w+)?[,!.\s]+(?P<y>.+)$", re.I)
_REVERT_KIND = {
    "style": "style", "art style": "style", "look": "style", "lighting": "lighting", "light": "lighting",
    "time of day": "time", "time": "time", "weather": "weather", "season": "season", "mood": "mood",
    "atmosphere": "mood", "camera": "camera", "angle": "camera", "view": "camera", "shot": "camera",
    "framing": "camera", "perspective": "camera",
}
_REVERT_CUE = re.compile(r"\b(?:undo|revert|back|restore|previous|original|(?<!\ban )(?<!\blook )(?<!\blooks )(?<!\bvery )"
                         r"old(?![- ](?:fashioned|school|masters?|film|photo|photograph|timey|world|age|town|man|woman|lady|"
                         r"house|car|map|book|tree|barn|ship|castle))|before|preferred|used to|go back|bring back|return)\b", re.I)


_IMAGE_OPERATION = re.compile(
    r"^(?:(?:can|could|would) you\s+|please\s+)?(?:rotate|turn|flip|mirror|crop|trim|resize|rescale|scale|stretch|animate|sign|watermark)"
    r"\b(?:\s+(?:it|this|that|the (?:image|picture|photo|painting|whole thing|canvas)))?(?:\s+[\w:]+){0,4}$|"
    r"^(?:make|turn|put|change) (?:it|this|the (?:image|picture|canvas)) (?:into )?(?:an? )?(?:\d+:\d+|square format|portrait orientation|"
    r"landscape orientation|portrait format|landscape format|gif|animation|video|widescreen)$|"
    r"^(?:\d+:\d+|portrait orientation|landscape orientation|widescreen|make it a gif|add a watermark|add my (?:name|signature)|"
    r"upside down)$", re.I)


def unclear_reference_reply(message: str) -> str | None:
    """"remove that" / "make it bigger" when nothing tells what "that" is: ask (None otherwise)."""
    text = normalise_request(message)
    match = re.fullmatch(r"(?P<v>remove|delete|erase|get rid of|lose|drop|move|make|change|recolou?r|resize)\s+(?:it|that|this|them|those|these|"
                         r"the other (?:one|ones)|that one|this one)(?:\s+(?P<x>[\w -]+))?", text, re.I)
    if not match or find_terms(match.group("x") or ""):
        return None
    return f"Which thing should I {match.group('v').lower()}? Name it, e.g. '{match.group('v').lower()} the tree'."


def image_operation_reply(message: str) -> str | None:
    """"rotate it", "crop it", "make it 16:9", "animate it": what the picture shows can change, not the image
    file itself; say so (None for anything else)."""
    text = normalise_request(message)
    if not text or not _IMAGE_OPERATION.match(text) or find_terms(text):
        return None
    return ("I can change what the picture shows, but not rotate, flip, crop, resize or animate the image itself; "
            "/export it and use an image editor for that.")


def is_revert_request(message: str) -> bool:
    """Whether the message asks to go back to something earlier ("move it back", "back to red")."""
    text = normalise_request(message)
    return bool(text) and _REVERT_CUE.search(text) is not None and len(text.split()) <= 8


def _words(text: str) -> list[str]:
    return text.split()


def revert_turn(current: str, before: str, after: str) -> str:
    """Undo, in ``current``, what changed from ``before`` to ``after`` (word-level diff)."""
    import difflib

    b, a, c = _words(before), _words(after), _words(current)
    ops = difflib.SequenceMatcher(None, b, a, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in reversed(ops):
        if tag == "equal":
            continue
        new_part, old_part = a[j1:j2], b[i1:i2]
        if new_part:
            # find the words the turn added in the current prompt
            pos = _find_run(c, new_part)
            if pos is None:
                stripped = [w.strip(",") for w in new_part]
                pos = _find_run([w.strip(",") for w in c], stripped)
            if pos is not None:
                c[pos:pos + len(new_part)] = old_part
                continue
        if old_part and not new_part:
            # re-insert removed words after the word that preceded them
            anchor = b[i1 - 1] if i1 > 0 else None
            idx = None
            if anchor is not None:
                for k in range(len(c) - 1, -1, -1):
                    if c[k].strip(",") == anchor.strip(","):
                        idx = k + 1
                        break
            if idx is None:
                idx = 0 if i1 == 0 else len(c)
            if idx > 0 and anchor is not None and anchor.endswith(",") and not c[idx - 1].endswith(","):
                c[idx - 1] += ","
            c[idx:idx] = old_part
    text = " ".join(c)
    text = re.sub(r"\s*,\s*(?:,\s*)+", ", ", text)
    return _join(_segments(text))


def _find_run(words: list[str], run: list[str]) -> int | None:
    n = len(run)
    for k in range(len(words) - n, -1, -1):
        if [w.lower() for w in words[k:k + n]] == [w.lower() for w in run]:
            return k
    return None


def _turn_categories(before: str, after: str) -> set[str]:
    old = {c for _, c in find_terms(before)}
    terms_before = set(find_terms(before))
    terms_after = set(find_terms(after))
    return {c for _, c in terms_before ^ terms_after} | (set() if old else set())


def apply_history(prompt: str, message: str, history: list[tuple[str, str]]) -> RuleEdit | None:
    """Requests about earlier turns: undo the last one, revert one kind of change, bring back
    something removed, or "no, I meant X" (redo the last request with X)."""
    history = list(history or [])
    if history and history[-1][1] != prompt:
        history.append(("", prompt))
    text = normalise_request(message)
    if not text:
        return None
    steps = None
    if _UNDO_ALL.match(text):
        steps = len(history) - 1
    elif _UNDO_N.match(text):
        m = _UNDO_N.match(text)
        word = (m.group("n") or m.group("m") or "two").lower()
        steps = 2 if m.group("twice") else {"two": 2, "three": 3, "four": 4}.get(word, int(word) if word.isdigit() else 2)
    if steps is not None and steps > 0 and len(history) >= 2:  # "undo twice", "back to the original"
        steps = min(steps, len(history) - 1)
        return RuleEdit(prompt=history[-1 - steps][1], kind="undo", target=f"last {steps} changes",
                        notes=[f"undid the last {steps} changes" if steps > 1 else "undid the last change"])
    if _UNDO_LIKE.match(text):
        text = "undo"
    if _UNDO_LAST.match(text):
        if len(history) >= 2:
            previous = history[-2][1]
            return RuleEdit(prompt=previous, kind="undo", target="last change", notes=["undid the last change"])
        return RuleEdit(prompt=prompt, kind="undo", target="", notes=["nothing to undo"])
    actually = re.match(r"^\s*(?:no[,!.]?\s*)?actually[,!.]?\s+(?P<x>(?:an?|some|two|three)\s+[\w' -]+?)[.!]*$", message, re.I) or \
        re.match(r"^\s*(?:no+|nope|oops|sorry|wait)[,!.]+\s*(?P<x>(?:an?|some|two|three)\s+[\w' -]+?)[.!]*$", message, re.I)
    if not actually:  # "no, blue" / "nope, watercolor" right after "make the boat red" / "make it a pencil sketch"
        bare = re.match(r"^\s*(?:no+|nope|nah|oops|sorry|wait|actually|hmm+)[,!.]+\s*(?:actually[,!.]?\s+)?"
                        r"(?P<x>[\w' -]+?)(?:\s+(?:please|instead))?[.!]*$", message, re.I)
        if bare and (bare.group("x").lower() in COLOUR_WORDS or
                     _strip_det(bare.group("x")).lower() in {t.lower() for t, _ in find_terms(bare.group("x"))}):
            actually = bare
    meant = _MEANT.match(f"i meant {actually.group('x')}") if actually else _MEANT.match(text)
    if not meant and _bare_instead(text) != text and len(history) >= 2:
        # "add a dog" then "a cat instead": the last request again with the new thing
        meant = _MEANT.match(f"i meant {_BARE_INSTEAD.match(text).group('x')}")
    if meant and len(history) >= 2:
        value = _clean(meant.group("x") or meant.group("y") or "")
        last_message, before = history[-1][0], history[-2][1]
        redo = _substitute_value(last_message, value)
        if redo and redo != last_message:
            result = apply_rules(before, redo)
            if result is not None:
                result.notes = [f"redid it with {value}"]
                return result
    if not _REVERT_CUE.search(text) or len(history) < 2:
        return None
    lowered = text.lower()
    # "bring back the umbrella": restore the turn that removed it
    thing = re.search(r"(?:bring back|put back|restore|add back|return)\s+(?P<x>.+)$|^(?:bring|put|add)\s+(?P<y>.+?)\s+back\b|"
                      r"^(?:(?:go|switch|change it|turn it|make it|change|revert|return)\s+)?back\s+to\s+(?P<z>(?:the|a|an|my)\s+.+)$",
                      text, re.I)
    kinds = [k for word, k in sorted(_REVERT_KIND.items(), key=lambda x: -len(x[0]))
             if re.search(rf"\b{re.escape(word)}\b", lowered)]
    for i in range(len(history) - 1, 0, -1):
        before, after = history[i - 1][1], history[i][1]
        if thing and not kinds:
            obj = _strip_det(thing.group("x") or thing.group("y") or thing.group("z"))
            obj = re.sub(r"\s+(?:again|please|too)$", "", obj)
            if obj.lower() in _PLACEHOLDERS | {"them", "those", "they", "him", "her"}:
                obj = ""
            if not obj:  # "bring it back": the thing the latest removal took away
                lost = content_words(before) - content_words(after)
                if lost and any(p.match(normalise_request(history[i][0])) for p in _REMOVE_RE):
                    restored = revert_turn(prompt, before, after)
                    if restored != prompt:
                        return RuleEdit(prompt=restored, kind="add", target=" ".join(sorted(lost)), added=[],
                                        notes=["brought back what was removed"])
                continue
            if obj and mentions(before, obj) and not mentions(after, obj):
                restored = revert_turn(prompt, before, after)
                if not mentions(restored, obj):
                    segment = next((s for s in _segments(before) if mentions(s, obj)), obj)
                    restored = _join(_segments(prompt) + [segment])
                return RuleEdit(prompt=restored, kind="add", target=obj, added=[obj], notes=[f"brought back {obj}"])
            continue
        if kinds:
            changed = _turn_categories(before, after)
            if kinds[0] in changed:
                old_terms = [t for t, c in find_terms(before) if c == kinds[0]]
                new = _remove_category(prompt, kinds[0])
                segments = _segments(new)
                old_phrase = next((s for s in _segments(before) if any(
                    re.search(rf"(?<![\w'-]){re.escape(t)}(?![\w'-])", s, re.I) for t in old_terms)), None)
                if old_phrase and old_phrase not in segments:
                    if len(_segments(before)) > 1 and _segments(before)[0] == old_phrase:
                        segments = [old_phrase] + segments[1:] if segments else [old_phrase]
                    elif kinds[0] == "style":
                        segments.append(old_phrase)
                    else:
                        segments.insert(min(1, len(segments)), old_phrase)
                return RuleEdit(prompt=_join(segments), kind=kinds[0], target=kinds[0],
                                notes=[f"{kinds[0]} back to {old_phrase or 'none'}"])
    if thing and not kinds:  # "bring back the bats" when no turn took them away and they are there
        obj = re.sub(r"\s+(?:again|please|too)$", "", _strip_det(thing.group("x") or thing.group("y") or thing.group("z")))
        if obj and re.search(rf"(?<![\w'-]){re.escape(obj)}(?![\w'-])", prompt, re.I):
            return RuleEdit(prompt=prompt, kind="add", target=obj, notes=[f"{obj} already there"])
    return None


def _substitute_value(message: str, value: str) -> str | None:
    """Swap the value in an earlier request for ``value``: ("make it blue", "red") -> "make it red"."""
    value = _strip_det(value)
    vterms = find_terms(value)
    words = message.split()
    if value.lower() in COLOUR_WORDS:
        for k in range(len(words) - 1, -1, -1):
            if words[k].lower().strip(",.!") in COLOUR_WORDS:
                words[k] = value
                return " ".join(words)
    if vterms:
        cat = vterms[0][1]
        for term, c in find_terms(message):
            if c == cat:
                return re.sub(rf"(?<![\w'-]){re.escape(term)}(?![\w'-])", value, message, count=1, flags=re.I)
    # last noun phrase after an article
    match = re.search(r"^.*\b(?:an?|the|some)\s+([\w\s-]+)$", message, re.I)
    if match:
        return message[:match.start(1)] + value
    return None


# ------------------------------------------------------------- vaguer requests, people, places
#: Vague wishes ("make it nicer", "improve it") mapped to words a painter understands.
_VAGUE = {
    "quality": ("beautiful, highly detailed", {
        "nicer", "nice", "better", "prettier", "pretty", "more beautiful", "beautiful", "good", "great", "amazing",
        "awesome", "cooler", "cool", "more interesting", "interesting", "more professional", "professional",
        "higher quality", "high quality", "better quality", "best quality", "polished", "more polished", "improved",
        "fancier", "fancy", "more impressive", "impressive", "more appealing", "appealing", "less boring", "perfect",
        "stunning", "more stunning", "gorgeous", "lovelier", "more artistic", "artistic", "sharper", "crisper",
        "improve", "enhance", "fix", "polish", "refine", "upgrade", "beautify", "touch up", "spruce up", "tidy up",
        "4k", "8k", "hd", "uhd", "high res", "high resolution", "higher resolution", "hi res", "hi-res", "high-res", "sharp",
        "crisp", "more crisp", "more realistic looking"}),
    "pop": ("vibrant colors, high contrast", {"pop", "more striking", "striking", "eye-catching", "more eye-catching",
                                               "more punchy", "punchy", "more vivid", "vivid", "bolder", "more bold",
                                               "more pop", "pop more"}),
    "luxury": ("luxurious, elegant, premium", {"expensive", "more expensive", "luxurious", "more luxurious", "high-end",
                                               "high end", "premium", "more premium", "classy", "classier", "less cheap",
                                               "posh", "upscale"}),
    "subtle": ("subtle, muted colors", {"tone", "tone down", "subtler", "more subtle", "subtle", "less intense", "less loud",
                                        "quieter", "less garish", "softer colors"}),
    "simple": ("simple, minimalist, clean composition", {
        "simpler", "simple", "simplify", "cleaner", "clean", "less busy", "less cluttered", "minimal", "more minimal",
        "minimalist", "more minimalist", "clean up", "declutter", "tidier", "tidy", "neater", "neat", "less messy"}),
}
_VAGUE_WORDS = {word: (kind, phrase) for kind, (phrase, words) in _VAGUE.items() for word in words}
_VAGUE_RE = re.compile(
    r"^(?:(?:make|get|render|turn|can)\s+)?(?:(?:it|this|that|the (?:image|picture|scene|photo|painting|whole thing|result|colou?rs)|"
    r"everything)\s+)?(?:(?:look|feel|seem|be)\s+)?(?:a (?:bit|little|lot|tad)\s+|much\s+|way\s+|even\s+|slightly\s+|somewhat\s+)?"
    r"(?P<w>[a-z0-9 -]+?)(?:\s+(?:it|this|that|the (?:image|picture|scene|photo|painting|whole thing)))?"
    r"(?:\s+(?:a bit|a little|up|down|some|more|somehow|overall|please))*$", re.I)


def _apply_vague(prompt: str, text: str) -> RuleEdit | None:
    """"make it nicer", "improve it", "make it pop", "simplify it": vague wishes become painter words
    (quality, contrast or simplicity terms), added once."""
    match = _VAGUE_RE.match(text)
    if not match or match.group("w").lower().strip() not in _VAGUE_WORDS:
        return None
    kind, phrase = _VAGUE_WORDS[match.group("w").lower().strip()]
    missing = [p for p in phrase.split(", ") if not re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", prompt, re.I)]
    if not missing:
        return RuleEdit(prompt=prompt, kind="modifier", target=phrase, notes=["already so"])
    segments, tail = _split_style_tail(_segments(prompt))
    if kind == "simple":  # a simpler picture: drop the busiest descriptive extras ("highly detailed", "intricate")
        segments = [s for s in segments if not re.search(r"\b(?:highly detailed|intricate|ornate|busy|cluttered)\b", s, re.I)]
    added = ", ".join(missing)
    return RuleEdit(prompt=_join(segments + [added] + tail), kind="modifier", target=added, added=missing,
                    notes=[f"added {added}"])


#: Nouns for people, so "make him smile" / "give her a hat" can name who is meant.
_PEOPLE = set("""man woman girl boy child kid lady gentleman knight astronaut wizard witch king queen princess prince
    soldier sailor pirate farmer chef cook doctor nurse person teenager baby grandmother grandfather grandma grandpa
    musician dancer samurai warrior cowboy cowgirl detective monk nun student worker traveler traveller explorer
    hiker climber skier surfer skater runner rider painter artist singer guitarist violinist pianist scientist
    vendor merchant shopkeeper mother father mom dad son daughter priest viking ninja clown robot android elf
    dwarf fairy mermaid vampire superhero hero villain pilot captain guard hunter fisher angler""".split())
_PRONOUNS = re.compile(r"\b(?:him|he|she|they|them|her(?=\s+(?:a|an|the|some|more|look|smile|laugh|cry|sit|stand|run|"
                       r"walk|dance|jump|wave|sleep|happy|sad|older|younger|taller|shorter|wear|hold|into|to|be)\b|\s*$))\b", re.I)


def _person(prompt: str) -> str | None:
    for word in re.findall(r"[a-z][a-z'-]*", prompt.lower()):
        base = word[:-1] if word.endswith("s") and word[:-1] in _PEOPLE else word
        if base in _PEOPLE or (base.endswith(("man", "woman")) and len(base) > 5 and base not in ("human",)):
            return base
    return None


#: A word people use for a kind of thing, and the more exact words a prompt may name it by.
_KINDS = {
    "dog": "retriever labrador poodle puppy corgi husky terrier beagle bulldog dachshund collie spaniel pug "
           "chihuahua greyhound dalmatian rottweiler doberman shiba hound",
    "cat": "kitten kitty tabby",
    "car": "sedan convertible coupe hatchback suv jeep limousine taxi roadster",
    "bird": "parrot sparrow robin eagle owl crow raven pigeon seagull gull hawk hummingbird swan duck goose flamingo "
            "penguin",
    "flower": "rose tulip daisy sunflower lily orchid poppy",
    "boat": "ship sailboat yacht canoe kayak rowboat ferry",
    "house": "cabin cottage hut mansion villa bungalow",
    "horse": "pony stallion mare foal",
    "bike": "bicycle",
}


def resolve_kinds(prompt: str, text: str) -> str:
    """"make the dog black" -> "make the retriever black" when the prompt names no dog but one
    kind of dog. Only a thing already there ("the dog", "his dog"): "add a dog" adds one."""
    for kind, names in _KINDS.items():
        said = re.compile(rf"\b(?P<d>the|that|this|his|her|its|their)\s+{kind}(?P<s>s?)\b", re.I)
        if not said.search(text) or re.search(_noun_pattern(kind), prompt, re.I):
            continue
        found = [name for name in names.split() if re.search(_noun_pattern(name), prompt, re.I)]
        if len(found) == 1:
            # a swap replaces the whole name, with a colour word that is part of it ("golden retriever"),
            # so it does not leave "a golden tabby cat"
            named = re.search(rf"\b([a-z]+)\s+{re.escape(found[0])}\b", prompt, re.I)
            swap = re.match(r"^(?:swap|replace|exchange|switch|trade|change)\b", text, re.I)
            name = f"{named.group(1)} {found[0]}" if swap and named and named.group(1).lower() in COLOUR_WORDS \
                else found[0]
            text = said.sub(lambda m, name=name: f"{m.group('d')} {name}{m.group('s')}", text)
    return text


def resolve_pronouns(prompt: str, text: str) -> str:
    """"make him smile" -> "make the fisherman smile" when the prompt names one kind of person."""
    if not _PRONOUNS.search(text):
        return text
    person = _person(prompt)
    if not person:  # an animal or a thing: "make him jump" on "a golden retriever playing in the snow"
        subject = _subject(prompt)
        head = _head(subject) if subject else ""
        if not head or head.lower() in _PLACEHOLDERS or find_terms(head) or not re.fullmatch(r"[a-z][a-z'-]+", head, re.I):
            return text
        person = head  # one word, as for people: "give the retriever a red collar"
    return _PRONOUNS.sub(f"the {person}", text)


_PLACES = {"left": "on the left", "right": "on the right", "top": "at the top", "bottom": "at the bottom",
           "center": "in the center", "centre": "in the center", "middle": "in the center",
           "foreground": "in the foreground", "background": "in the background", "corner": "in the corner",
           "front": "in the foreground", "back": "in the background", "distance": "in the distance"}
_MOVE_TO = re.compile(r"^(?:move|shift|slide|put|place|push|drag|bring|reposition)\s+(?P<x>(?:the|his|her|its|that)\s+.+?)\s+"
                      r"(?:(?:over\s+)?(?:to|towards|toward|into|on|onto|at|in)\s+)?(?:the\s+)?(?:far\s+)?"
                      r"(?P<where>left|right|top|bottom|center|centre|middle|foreground|background|corner|front|back|distance)"
                      r"(?:\s+(?:side|edge|part|corner))?(?:\s+of\s+(?:the\s+)?(?:image|picture|frame|scene|canvas))?$", re.I)


_RELOCATE = [
    re.compile(r"^(?:move|set|put|place|relocate|take|bring|transport|transfer|change)\s+(?:it|this|that|everything|the (?:scene|whole thing|"
               r"picture|image|setting|location|place|city|country|town))\s+(?:to|in|into)\s+(?P<p>.+?)(?:\s+instead)?$", re.I),
    re.compile(r"^(?:make it|make this|have it|let it be|set it|change it(?: to)?|put it)\s+(?:be\s+)?(?:in|set in|take place in|happen in|"
               r"located in)\s+(?P<p>.+?)(?:\s+instead)?$", re.I),
    re.compile(r"^(?:change|switch|make)\s+the\s+(?:city|location|place|setting|country|town)\s+(?:to|into)\s+(?P<p>.+?)(?:\s+instead)?$", re.I),
    re.compile(r"^(?:(?:set|located)\s+)?in\s+(?P<p>.+?)\s+instead(?:\s+of\s+.+)?$", re.I),
]
_KNOWN_PLACES = ("new york", "tokyo", "paris", "london", "rome", "venice", "berlin", "kyoto", "hong kong", "san francisco",
                 "los angeles", "chicago", "amsterdam", "barcelona", "istanbul", "cairo", "moscow", "seoul", "shanghai",
                 "beijing", "dubai", "sydney", "rio de janeiro", "mexico city", "prague", "vienna", "lisbon", "singapore")
_PLACE_IN_PROMPT = re.compile(r"\b(?P<prep>in|at|of|near|over)\s+(?P<place>(?:the\s+)?[A-Z][\w'-]*(?:\s+(?:[A-Z][\w'-]*|de|of|du))*"
                              r"(?<![\s]de)(?<![\s]of)(?<![\s]du))")


def _title(place: str) -> str:
    small = {"of", "de", "du", "the", "la", "le", "da", "del"}
    words = place.split()
    return " ".join(w if (i and w.lower() in small) or any(c.isupper() for c in w) else w.capitalize()
                    for i, w in enumerate(words))


def _apply_place(prompt: str, text: str) -> RuleEdit | None:
    """"move it to New York", "set it in paris instead": the place the prompt names is replaced
    (capitalised, or a well-known city), not kept beside the new one."""
    match = next((m for m in (p.match(text) for p in _RELOCATE) if m), None)
    if not match:
        return None
    place = _clean(match.group("p"))
    low = place.lower()
    setting = re.match(r"^(?:an?|the)\s+(?:[\w'-]+\s+){0,2}[\w'-]+$", place) and not find_terms(place)
    if setting and not re.search(r"\b(?:left|right|top|bottom|center|centre|middle|foreground|background|corner|front|back|distance)\b", low):
        # "move it to a forest": the scene's own setting ("in a meadow") is replaced
        segments = _segments(prompt)
        where = list(re.finditer(r"\b(?:in|on|at|inside|across|through)\s+(?:an?|the)\s+(?:[\w'-]+\s+){0,2}?[\w'-]+(?=\s*$|\s+(?:at|in|on|during|under|with)\b)",
                                 segments[0], re.I)) if segments else []
        if not where:
            return None
        last = where[-1]
        prep = "in" if not re.match(r"(?:on|at)\b", last.group(0), re.I) else last.group(0).split()[0]
        old_place = _strip_det(re.sub(r"^\w+\s+", "", last.group(0)))
        segments[0] = segments[0][:last.start()] + f"{prep} {place}" + segments[0][last.end():]
        return RuleEdit(prompt=_join(segments), kind="place", target=_strip_det(place), added=[_strip_det(place)],
                        removed=[old_place], negative=[old_place] if _head(old_place) != _head(place) else [],
                        notes=[f"setting → {_strip_det(place)}"])
    if not place or find_terms(place) or low.split()[0] in ("the", "a", "an", "my", "his", "her") and not place[0].isupper() or \
            re.search(r"\b(?:left|right|top|bottom|center|centre|middle|foreground|background|corner|front|back|distance)\b", low) \
            or len(place.split()) > 4:
        return None
    if not (place[0].isupper() or low in _KNOWN_PLACES or len(place.split()) <= 3):
        return None
    new_place = _title(place)
    found = [m for m in _PLACE_IN_PROMPT.finditer(prompt) if m.start() > 0]
    old = ([m for m in found if m.group("prep").lower() in ("in", "at")] or found or [None])[-1]
    if old is None:
        known = re.search(rf"\b(?P<prep>in|at|of|near|over)\s+(?P<place>{'|'.join(map(re.escape, _KNOWN_PLACES))})\b", prompt, re.I)
        old = known
    if old is not None:
        if old.group("place").lower() == new_place.lower():
            return RuleEdit(prompt=prompt, kind="place", target=new_place, notes=["already so"])
        out = prompt[:old.start("place")] + new_place + prompt[old.end("place"):]
        return RuleEdit(prompt=out, kind="place", target=new_place, added=[new_place], removed=[old.group("place")],
                        negative=[old.group("place")], notes=[f"place → {new_place}"])
    if not (place[0].isupper() or low in _KNOWN_PLACES):
        return None
    segments = _segments(prompt)
    segments[0] = f"{segments[0]} in {new_place}"
    return RuleEdit(prompt=_join(segments), kind="place", target=new_place, added=[new_place], notes=[f"place → {new_place}"])


def _apply_move_to(prompt: str, text: str) -> RuleEdit | None:
    """"move the fox to the left": the thing gets a position phrase (an old one is replaced)."""
    match = _MOVE_TO.match(text)
    if not match:
        other = re.match(r"^(?:move|shift|put|place|bring|take)\s+(?P<x>the\s+[\w'-]+(?:\s+[\w'-]+)?)\s+"
                         r"(?P<p>to|onto|into|on|in|under|behind|beside|next to|in front of)\s+(?P<y>(?:the|a|an)\s+.+)$", text, re.I)
        if other and mentions(prompt, other.group("x")):  # "move the cat to the floor"
            prep = {"to": "on", "onto": "on", "into": "in"}.get(other.group("p").lower(), other.group("p"))
            return _apply_move(prompt, f"{other.group('x')} {prep} {other.group('y')}")
        return None
    if not mentions(prompt, match.group("x")):
        return None
    head = _head(match.group("x"))
    place = _PLACES[match.group("where").lower()]
    position = r"(?:on|at|in|to) the (?:far )?(?:left|right|top|bottom|center|centre|middle|foreground|background|corner|distance)"
    segments = _segments(prompt)
    for i, seg in enumerate(segments):
        found = re.search(_noun_pattern(head), seg, re.I)
        if not found:
            continue
        rest = re.sub(rf"^\s+{position}\b", "", seg[found.end():], flags=re.I)
        segments[i] = _clean(f"{seg[:found.end()]} {place}{rest}")
        return RuleEdit(prompt=_join(segments), kind="position", target=head, added=[place],
                        notes=[f"moved the {head} to {place.split(' ', 1)[1]}"])
    return None


_MODAL_BE = re.compile(r"^(?P<x>(?:the|his|her|its|their)\s+[\w'-]+(?:\s+[\w'-]+)??)\s+(?:should|must|could|can|needs to|"
                       r"has to|ought to|would)\s+be\s+(?P<y>[a-z-]+)$", re.I)
_MODAL = re.compile(r"^(?:(?:can|could|may|should|would)\s+(?P<x>(?:the|his|her|its|their)\s+[\w'-]+(?:\s+[\w'-]+)??)\s+be\s+"
                    r"(?P<v>[a-z]+ing)\b(?P<rest>.*)|(?P<x2>(?:the|his|her|its|their)\s+[\w'-]+(?:\s+[\w'-]+)??)\s+"
                    r"(?:should|must|could|can|needs to|has to|ought to)\s+(?!be\b|go\b|disappear|vanish)(?P<v2>[a-z]+)\b(?P<rest2>.*))$", re.I)


def _apply_modal_action(prompt: str, text: str) -> RuleEdit | None:
    """"can the fox be sleeping", "the fisherman should wear a red coat": an action for something there."""
    doing = re.match(r"^(?P<x>(?:the|his|her|its|their)\s+[\w'-]+(?:\s+[\w'-]+)??)\s+(?:should|must|could|can|needs to|has to|"
                     r"ought to|would)\s+be\s+(?P<v>[a-z]+ing\s+.+)$", text, re.I)
    if doing:  # "the fisherman should be holding a fish": as "can the fisherman be holding a fish"
        text = f"can {doing.group('x')} be {doing.group('v')}"
    be = _MODAL_BE.match(text)
    if be and mentions(prompt, be.group("x")):
        word = be.group("y").lower()
        if word.endswith("ing") and word not in COLOUR_WORDS and len(word) > 5:  # "the girl should be smiling"
            bases = [b for b in (word[:-3], word[:-3] + "e", word[:-4]) if _gerund(b) == word] or [word[:-3]]
            return _apply_action(prompt, f"make {be.group('x')} {bases[0]}")
        if word in COLOUR_WORDS or _adjective_like(word) or word in _ANTONYMS:  # "the waves should be calm"
            return _recolour(prompt, _head(be.group("x")), word)
        return None
    match = _MODAL.match(text)
    if not match:
        return None
    thing, verb = match.group("x") or match.group("x2"), match.group("v") or match.group("v2")
    rest = match.group("rest") if match.group("x") else match.group("rest2")
    verb = verb[:-3] if verb.endswith("ing") and match.group("v") else verb
    action = _apply_action(prompt, _clean(f"make {thing} {verb} {rest or ''}"))
    if action is None and match.group("v") and match.group("v").endswith("ing"):  # "sleeping" -> "sleepe"? try the doubled/e forms
        for base in (match.group("v")[:-3] + "e", match.group("v")[:-4]):
            action = _apply_action(prompt, _clean(f"make {thing} {base} {rest or ''}"))
            if action is not None and match.group("v").lower() in action.prompt.lower():
                break
    return action


def _apply_fewer(prompt: str, text: str) -> RuleEdit | None:
    """"fewer trees" when the prompt has trees: "a few trees" (not none of them)."""
    match = re.match(r"^(?:fewer|less|not so many|not as many)\s+(?P<x>[\w'-]+s)$", text, re.I)
    if not match:
        return None
    noun = match.group("x")
    pattern = rf"\b(?:(?:many|lots of|a lot of|some|several|numerous|countless|dozens of)\s+)?{re.escape(noun)}\b"
    if not re.search(rf"\b{re.escape(noun)}\b", prompt, re.I) or re.search(rf"\ba few {re.escape(noun)}\b", prompt, re.I):
        return None
    new = re.sub(pattern, f"a few {noun}", prompt, count=1, flags=re.I)
    return RuleEdit(prompt=new, kind="modifier", target=noun, added=[f"a few {noun}"], notes=[f"fewer {noun}"])


_BARE_THING = re.compile(r"^(?:an?|some|two|three|four|five|several|a few|a couple of|lots of|many|another|a second|one more)\s+"
                         r"(?:[\w'-]+\s+){0,5}[\w'-]+$", re.I)


def _apply_bare_thing(prompt: str, text: str) -> RuleEdit | None:
    """"a cat", "also some birds", "and a dog" mid-conversation: shorthand for adding it."""
    lead = re.match(r"^(?:one more|a few|a couple of|lots of|a second)\s+", text, re.I)
    rest = text[lead.end():] if lead else text.split(" ", 1)[-1]
    if not _BARE_THING.match(text) or any(w in _EDIT_WORDS for w in rest.lower().split()):
        return None
    return _apply_count(prompt, f"add {text}") or _apply_count(prompt, text) or _apply_add(prompt, f"add {text}")


# ------------------------------------------------------------------------------ not edits
_THANKS = r"(?:thanks?(?: you| u)?(?: (?:so|very) much)?(?: a lot)?|thx|ty|cheers|much appreciated|(?:i )?appreciate it|thank u)"
_PRAISE = (r"(?:(?:wow|whoa|nice|cool|great|awesome|amazing|perfect|beautiful|lovely|excellent|brilliant|fantastic|sweet|"
           r"neat|gorgeous|wonderful|superb|incredible|good job|well done|nice job|great job|nice work|great work|"
           r"(?:i )?love (?:it|this|that)|(?:i )?like (?:it|this|that)|(?:it |this |that )?looks? (?:really |so |very )?"
           r"(?:great|good|nice|amazing|awesome|perfect|better|cool|fine|beautiful|lovely)(?: now)?|"
           r"(?:that's|thats|that is|this is|it's|its|it is) (?:really |so |very )?(?:great|good|nice|perfect|better|"
           r"cool|awesome|amazing|beautiful|lovely|fine|it|exactly it|what i wanted|the one)|much better|(?:yes |yeah )?this one|"
           r"exactly|exactly what i wanted|just right|very nice|so cool|so good|too good|(?:you're|youre|you are) "
           r"(?:great|awesome|amazing|the best|good)|good bot|you rock|good work)(?: thanks?)?)")
_UNHAPPY = (r"(?:(?:this|that|it)(?:'s| is)? (?:wrong|bad|ugly|terrible|awful|worse|not right|not good|off)|wrong|bad|"
            r"ugly|terrible|awful|worse|not good|no good|not right|i hate (?:it|this|that)|i don't like (?:it|this|that)|"
            r"i dont like (?:it|this|that)|(?:that's |thats |this is )?not what i (?:asked|wanted|meant|asked for)|"
            r"not that|nope not that|that's not it|not quite right|hmm+|yuck|eww*|ugh+|argh+|meh|(?:no+t? )?like that|"
            r"(?:that|it|this) (?:looks|is) (?:weird|strange|wrong|off|bad|worse)|i don'?t like that|not like this|"
            r"(?:that'?s |thats )?not (?:it|right|good)|what\?*|huh\?*|why)")
_AGAIN = (r"(?:try again|again|again please|redo|redo it|do it again|one more time|once more|reroll|re roll|"
          r"another try|another version|different version|another variation|give me another)")
_ACK = r"(?:ok(?:ay)?|k|kk|yes|yeah|yep|yup|sure|alright|all right|got it|i see|lol|lmao|haha+|hah|hehe|hmm+|hm+|oh|ah|uh|um+)"
_GREET = r"(?:hi|hello|hey|hiya|yo|good (?:morning|afternoon|evening)|howdy|greetings)(?: there)?"
_HOW_ARE_YOU = r"(?:how are (?:you|u)(?: doing)?(?: today)?|how's it going|what's up|sup|how do you do)"
_BYE = r"(?:bye|goodbye|bye bye|see (?:you|ya)|good night|that's all|thats all|that's it for now|i'm done|im done|all done)"
_NO = r"(?:no+|nope|nah|no thanks|not really|meh|hmm+ no|not quite)"
_LEAVE = (r"(?:never ?mind|nvm|leave it(?: (?:like that|as it is|as is|alone|be))?|do nothing|no changes?|"
          r"keep (?:it|that|this|the (?:colou?rs?|size|position|place|style|look|lighting|background|mood|composition))"
          r"(?: (?:like that|as it is|as is|that way|the same))?|it'?s fine(?: as it is)?|that'?s fine|fine as it is|wait|hold on|one (?:sec|second|moment)|"
          r"let me think|hmm+ let me think|don'?t change (?:it|anything)|change nothing|no need|skip|pass)")
_DESCRIBE = (r"(?:what(?:'s| is) (?:this|that|it|in (?:the|this|my) (?:picture|image|scene)|the (?:current )?prompt|"
             r"(?:in )?the (?:picture|image) now|on (?:the )?screen)|describe (?:it|this|the (?:picture|image|scene))|"
             r"what (?:do|can) (?:you|i) see|what (?:shapes|things|objects|colou?rs) are (?:there|in it|in the (?:picture|image))|"
             r"what did you (?:draw|paint|make|change|do)|show (?:me )?the prompt|what am i looking at|what does it show|"
             r"what (?:changed|was changed|has changed)|(?:can you )?explain what you (?:changed|did)|"
             r"what colou?r (?:is|are) (?:it|this|that|they|them|the [\w' ]+)|(?:can you )?explain (?:the|this|my) (?:picture|image|scene)|"
             r"what (?:time(?: of (?:day|year))?|season|style|mood|kind of (?:picture|image|style)) is (?:it|this|that)(?: in)?|"
             r"(?:is|was) (?:it|this) (?:at )?(?:sunset|night|day|daytime|morning|evening|winter|summer|spring|autumn|a photo|a painting)|how (?:big|large|small) (?:is|are) (?:it|they|the [\w' ]+)|"
             r"where (?:is|are) (?:it|they|the [\w' ]+)|where (?:did|has|have) (?:it|they|the [\w' ]+) (?:go|gone)|(?:is|are) (?:it|they|the [\w' ]+) (?:big|small|large|red|orange|yellow|"
             r"green|blue|purple|white|black|on the (?:left|right)|at the (?:top|bottom)|in the (?:middle|center|centre)))")
_HELP = (r"(?:help|help me|what can you do|what can i (?:say|do|ask|type)|how does (?:this|it) work|what should i "
         r"(?:say|type|do)|commands|what now|any ideas|ideas|suggestions|what else|what next|what do you suggest)")


def _only(parts: str, text: str) -> bool:
    return bool(re.fullmatch(rf"(?:(?:{parts})\s*)+", text))


_FILLER_LEAD = re.compile(r"^\s*(?:no+|nah|nope|hmm+|hm+|wait|ok(?:ay)?|oops|whoops|actually|ugh+|sorry|well|yeah|yes|meh|"
                          r"alright|oh|great|perfect|cool|nice|thanks|thank you|thx|so|right|hey)\s*[,!.]+\s*(?=\S)", re.I)


_REROLL = re.compile(
    r"^(?:(?:ok(?:ay)?|hmm+|meh|nah|no|please|pls|can you|could you|let's|just)[,!. ]+)*"
    r"(?:try (?:it )?again|try another(?: one| seed| take)?|re-?roll(?: it)?|re-?generate(?: it)?|new seed|"
    r"(?:an?other|a different) (?:one|take|version|variation|seed|try|attempt)|"
    r"(?:give me|show me|make|paint|draw) (?:an?other|a different)(?: one| take| version| variation)?|"
    r"(?:try|use) a (?:new|different) seed)(?: please| pls)?[.!]*$", re.I)


def is_reroll(message: str) -> bool:
    """"try again", "another version", "reroll": the same picture asked for once more, which only a
    new seed can give (the prompt would not change)."""
    return _REROLL.match(" ".join(message.split())) is not None


def small_talk(prompt: str, message: str) -> str | None:
    """A reply when ``message`` is not an edit at all: thanks, praise, greetings, "ok", "what is
    this?", "help". The whole message must be such words (emoji and punctuation aside), so
    "thanks, now add a cat" is still an edit. None otherwise. A leading filler ("great, one more
    time", "actually, leave it") is read past."""
    reply = _small_talk(prompt, message)
    if reply is None and _FILLER_LEAD.match(message):
        reply = _small_talk(prompt, _FILLER_LEAD.sub("", message, count=1))
    return reply


def _small_talk(prompt: str, message: str) -> str | None:
    text = re.sub(r"[^\w\s']+", " ", message.lower())
    text = " ".join(text.replace("’", "'").split())
    if not text:
        return None
    if _only(_DESCRIBE, text):
        return f"It shows {prompt}."
    if _only(_HELP, text):
        return ("Tell me what to change, e.g. 'make it night', 'add a cat', 'remove the tree' or 'make the sky "
                "orange'; /help lists the commands.")
    if _only(_HOW_ARE_YOU + "|" + _GREET, text) and re.search(_HOW_ARE_YOU, text):
        return "Doing well, thanks! What should I change in the picture?"
    if _only(_GREET, text):
        return "Hi! Tell me what to change, e.g. 'make it night' or 'add a cat'."
    if _only(_BYE + "|" + _THANKS + "|" + _PRAISE, text) and re.fullmatch(rf".*\b(?:{_BYE})", text):
        return "Glad to help! Everything is saved as you go."
    if _only(_THANKS + "|" + _PRAISE + "|" + _ACK + "|" + _GREET, text):
        if re.search(rf"\b(?:{_THANKS})\b", text):
            return "You're welcome! Tell me if you'd like another change."
        if re.search(rf"\b(?:{_PRAISE})\b", text):
            return "Glad you like it! What should I change next?"
        return "OK. What should I change next?"
    if _only(_LEAVE + "|" + _ACK + "|" + _NO, text) and re.search(rf"\b(?:{_LEAVE})\b", text):
        return "OK, I'll leave it as it is. Tell me when you'd like a change."
    if _only(_NO + "|" + _ACK, text) and re.search(rf"\b(?:{_NO})\b", text):
        return "OK, I left it as it is. Say 'undo' to go back a step, or tell me what to change."
    if _only(_UNHAPPY + "|" + _NO + "|" + _ACK, text):
        return "Sorry about that. Say 'undo' to go back a step, or tell me what to change."
    if _only(_AGAIN + "|" + _ACK, text):
        return ("The prompt is the same as before, so the picture would be too; say 'try again' for another take "
                "with a new seed, or tell me what to change.")
    return None


_WH_QUESTION = re.compile(r"^(?:what|who|why|where|when|which|how|whose)\b", re.I)
_EDIT_CUES = re.compile(r"\b(?:make|add|change|remove|delete|put|turn|give|replace|swap|move|draw|paint|if|instead|"
                        r"could|can|would|should|want|more|less|look like|be)\b", re.I)


def question_reply(prompt: str, message: str) -> str | None:
    """A reply to a question that asks nothing of the picture ("why is the sky blue?"): the
    rewriter only edits pictures, so it says so and shows what the picture is. None when the
    message could be a request ("what if it was winter?", "how about a cat?")."""
    text = _clean(message)
    if not _WH_QUESTION.match(text) or _EDIT_CUES.search(text) or find_terms(text):
        return None
    return f"I can only change the picture, not answer questions. It shows {prompt}; tell me what to change."


_NEGATION = re.compile(r"\b(?:\w+n't|no|not|don't|dont|never|without|less|fewer|remove|delete|erase|undo|back|instead|stop|"
                       r"isn't|doesn't|can't|won't|nothing|dislike|hate|worse|wrong|previous|before|again|same|"
                       r"i|me|my|you|your|we|us|our|what|why|who|how|which|where|when|it|he|she|they|them|him|her|"
                       r"one|another|duplicate|copy|other|this|that|these|those)\b", re.I)
_IMPERATIVES = frozenset("""replace swap switch try set flood age crop write draw paint show give have let get bring take
    fix turn zoom rotate flip mirror invert spell type label sign explain tell say describe go use apply do redo calm
    clear fill cover light darken lighten brighten blur sharpen focus frame center centre align resize scale extend
    expand stretch shrink grow enlarge reduce increase decrease raise lower tilt pan crop cut paste copy duplicate
    hide reveal open close""".split())
_LITERAL_LEAD = re.compile(
    r"^(?:(?:make|have|let|get|give|show|turn|change|add|put|draw|paint|render|set|include|can|could|would|will)\s+)?"
    r"(?:(?:it|this|that|everything|the (?:image|picture|scene|photo|painting|whole thing))\s+)?"
    r"(?:(?:look|feel|seem|appear)\s+)?(?:(?:like|as|more|to be|be|into|a bit|a little|some)\s+)*", re.I)


def literal_request(prompt: str, message: str) -> RuleEdit | None:
    """Last resort for a request nothing else understood: its own words, added to the prompt as
    one phrase ("make it look like it's jumping" -> "…, it's jumping"). Only short descriptive
    requests qualify: no negation, no question, no talk about "me" or "you", and at least one word
    the prompt does not have yet. A diffusion model reads such a phrase well enough, and the reply
    says it was taken literally. None when the request does not qualify."""
    text = resolve_pronouns(prompt, normalise_request(message))
    if not text or message.strip().endswith("?") and _WH_QUESTION.match(text):
        return None
    phrase = _clean(_LITERAL_LEAD.sub("", text, count=1))
    phrase = _clean(re.sub(r"\b(?:should|could|would|can|must|needs to|has to)\s+be\b|\bbe\b", " ", phrase))
    words = re.findall(r"[a-z][a-z'-]*", phrase.lower())
    if not 1 <= len(words) <= 7 or _NEGATION.search(phrase) or not re.search(r"[a-z]{3,}", phrase.lower()):
        return None
    if words[0] in _EDIT_WORDS or words[0] in _IMPERATIVES and len(words) < 3:  # "try", "fix it"
        return None  # still an instruction ("replace the girl with a dog"), not a description
    new_words = content_words(phrase) - content_words(prompt)
    if not new_words or new_words <= _EDIT_WORDS:
        return None
    from chatimg.understand.rules.typos import english_words

    vocabulary = english_words()

    def known(word: str, depth: int = 0) -> bool:
        word = word.split("'")[0].strip("-")
        forms = {word}
        for suffix, replacements in (("ies", ("y",)), ("es", ("", "e")), ("s", ("",)), ("ed", ("", "e")),
                                     ("ing", ("", "e")), ("ly", ("",)), ("y", ("",)), ("er", ("", "e")), ("est", ("", "e"))):
            if word.endswith(suffix):
                forms |= {word[:-len(suffix)] + r for r in replacements}
        if word in _TERM_WORDS or any(word.endswith(x) and word[:-len(x)] in vocabulary for x in ("punk", "core", "wave", "esque")):
            return True  # "solarpunk", "cottagecore"
        if word.endswith("ian"):  # "dystopian", "victorian"
            forms |= {word[:-1], word[:-2], word[:-3] + "ia", word[:-3] + "y"}
        if any(f in vocabulary for f in forms if len(f) >= 3) or all(p in vocabulary for p in word.split("-")):
            return True
        # a compound of two known words: "fireflies", "snowglobe"
        return depth == 0 and any(word[:i] in vocabulary and known(word[i:], 1) for i in range(3, len(word) - 2))

    if sum(known(w) for w in new_words) * 2 < len(new_words) + 1:
        return None  # mostly words we do not know (gibberish, unfixed typos): not worth painting as is
    segments, tail = _split_style_tail(_segments(prompt))
    return RuleEdit(prompt=_join(segments + [phrase] + tail), kind="literal", target=phrase, added=[phrase],
                    notes=[f"added '{phrase}'"])


_KEEP_ONLY = re.compile(
    r"^(?:(?:remove|delete|erase|clear|get rid of|take out|lose)\s+(?:everything|all|anything)(?:\s+else)?\s+"
    r"(?:except(?: for)?|but|apart from|other than|besides|save for)\s+|(?:keep|leave|show)\s+(?:only|just)\s+|"
    r"(?:only|just)\s+(?=(?:the|a|an)\s))(?P<x>.+)$", re.I)
_NO_BACKGROUND = re.compile(r"^(?:remove|delete|erase|get rid of|clear|take out|lose|no)\s+(?:the\s+)?"
                            r"(?:background|backdrop|scenery|surroundings)$", re.I)


def _apply_keep_only(prompt: str, text: str) -> RuleEdit | None:
    """"remove everything except the car", "keep only the car", "remove the background": that
    thing alone (as the prompt describes it) on a plain background, in the same style."""
    keep, bare = _KEEP_ONLY.match(text), _NO_BACKGROUND.match(text)
    if not keep and not bare:
        return None
    segments = _segments(prompt)
    head = _head(keep.group("x")) if keep else ""
    if keep and not head:
        return None
    if keep and not mentions(prompt, keep.group("x")):
        return RuleEdit(prompt=prompt, kind="isolate", target=head, notes=[f"there is no {head} in the prompt to keep"])
    noun = _noun_pattern(head) if head else None
    index = next((i for i, seg in enumerate(segments) if noun is None or re.search(noun, seg, re.I)), 0)
    segment = segments[index]
    if noun is not None:  # the thing's own words: back to its determiner, up to its noun
        found = re.search(rf"(?:\b(?:a|an|the|some|two|three)\s+)?(?:[\w'-]+\s+){{0,3}}?{noun}", segment, re.I)
        words = found.group(0).split()
        dets = [i for i, w in enumerate(words) if w.lower() in _DETERMINER_WORDS]
        thing = " ".join(words[dets[-1]:] if dets else words)
    else:  # the subject: the first phrase, before where it stands or what it does
        thing = re.split(r"\s+(?:(?:parked|sitting|standing|lying|resting|perched|floating)\s+)?"
                         r"(?:on|in|at|under|near|beside|behind|against|inside|by)\s+(?:a|an|the)\b", segment, maxsplit=1)[0]
    styles = [seg for i, seg in enumerate(segments) if i != index and find_terms(seg)
              and all(cat == "style" for _, cat in find_terms(seg))]
    new = _join([f"{_clean(thing)} on a plain background"] + styles)
    if new == prompt:
        return None
    return RuleEdit(prompt=new, kind="isolate", target=_clean(thing), added=["plain background"],
                    notes=[f"kept only {_clean(thing)}, on a plain background"])


_ALL_ONE_COLOUR = re.compile(r"^(?:make|turn|paint|colou?r|tint)\s+(?:everything|it all|all of it|the whole (?:thing|image|"
                             r"picture|scene))\s+(?:in\s+)?(?P<c>[a-z]+)$", re.I)


def _apply_all_one_colour(prompt: str, text: str) -> RuleEdit | None:
    """"make everything blue": a palette for the whole picture, not a blue thing added."""
    match = _ALL_ONE_COLOUR.match(text)
    colour = match.group("c").lower() if match else ""
    if colour not in COLOUR_WORDS:
        return None
    palette = f"monochromatic {colour} color palette"
    segments = [seg for seg in _segments(prompt) if not re.fullmatch(r"monochromatic \w+ color palette", seg)]
    body, style = _split_style_tail(segments)
    return RuleEdit(prompt=_join(body + [palette] + style), kind="style", target=palette, added=[palette],
                    notes=[f"everything in shades of {colour}"])


_HANDLERS = (_apply_keep_only, _apply_all_one_colour, _apply_in_colour, _apply_place, _apply_remove, _apply_fewer, _apply_vague, _apply_count, _apply_move_to, _apply_modal_action, _apply_replace,
             _apply_scene_terms, _apply_named_style, _scene_with_extra, _apply_attribute, _apply_action, _apply_look_like, _apply_more_less, _apply_add,
             _apply_modifier, _apply_bare_attribute, _apply_bare_thing)
