"""Requests written the way people type them, driven through the rewriter core (rules only, no
model, as ``chatimg bench rewriter --llm none`` does). Each case pins a class of request that used to
fall back ("not understood"), or was answered wrongly or dishonestly: the reply must not be the
fallback and the new prompt must contain / no longer contain the right words."""

from __future__ import annotations

import pytest

from chatimg.understand.llm.rewriter import LLMRewriter

ONE = "a big red circle on the left, on a blue background"
TWO = "a big red circle on the left and a small blue square on the right, on a green background"
CABIN = "a cabin in a snowy forest, oil painting"
FISHER = "a portrait of an old fisherman on a boat, golden hour, photo"
FOX = "a red fox sitting in a meadow, watercolor painting"

NOT_UNDERSTOOD = "didn't understand"


@pytest.fixture(scope="module")
def rewriter():
    return LLMRewriter(None, name="rules only", mode="rules-first")


def run(rewriter, message, prompt, history=None):
    edit = rewriter.rewrite(message, prompt=prompt, history=history if history is not None else [(prompt, prompt)])
    assert rewriter.last.usable, f"{message!r} fell back: {edit.reply}"
    assert NOT_UNDERSTOOD not in edit.reply
    return edit


def conversation(rewriter, messages):
    prompt, history, edits = None, [], []
    for message in messages:
        edit = rewriter.rewrite(message, prompt=prompt, history=list(history))
        assert rewriter.last.usable, f"{message!r} fell back: {edit.reply}"
        prompt = edit.prompt
        history.append((message, prompt))
        edits.append(edit)
    return edits


def has(prompt, *words):
    return all(w.lower() in prompt.lower() for w in words)


# ------------------------------------------------------------------ shape world: same value for both
@pytest.mark.parametrize("message, expected", [
    ("same colour for both", "a big red circle on the left and a small red square on the right, on a green background"),
    ("make both the same colour", "a big red circle on the left and a small red square on the right, on a green background"),
    ("make them the same color pls", "a big red circle on the left and a small red square on the right, on a green background"),
    ("make them the same size", "a big red circle on the left and a big blue square on the right, on a green background"),
    ("make the square the same size", "a big red circle on the left and a big blue square on the right, on a green background"),
    ("give them both the same shape", "a big red circle on the left and a small blue circle on the right, on a green background"),
])
def test_same_value_for_both(rewriter, message, expected):
    assert run(rewriter, message, TWO).prompt == expected


def test_same_colour_for_both_takes_the_colour_just_changed(rewriter):
    edits = conversation(rewriter, ["a red circle on the left and a blue square on the right",
                                    "make the square yellow", "same colour for both"])
    assert edits[-1].prompt == "a yellow circle on the left and a yellow square on the right"


@pytest.mark.parametrize("message", ["keep the same colour but move the square to the top",
                                     "same size, but make the square yellow"])
def test_keeping_the_same_value_is_not_a_copy(rewriter, message):
    edit = run(rewriter, message, TWO)
    assert "red square" not in edit.prompt and "big blue square" not in edit.prompt


# ------------------------------------------------------------------ shape world: removing every shape
@pytest.mark.parametrize("message, prompt", [
    ("delete both", TWO), ("remove both shapes", TWO), ("remove all shapes", TWO), ("remove them", TWO),
    ("delete the circle and the square", TWO), ("remove everything", TWO),
    ("delete it", ONE), ("remove the circle", ONE), ("get rid of it", ONE),
])
def test_removing_every_shape_is_refused_honestly(rewriter, message, prompt):
    edit = run(rewriter, message, prompt)
    assert edit.prompt == prompt  # the painter always draws at least one shape
    assert "at least one shape" in edit.reply


def test_removing_one_of_two_still_works(rewriter):
    assert run(rewriter, "remove the square and make the circle yellow", TWO).prompt == \
        "a big yellow circle on the left, on a green background"
    assert run(rewriter, "take the circle out", TWO).prompt == "a small blue square on the right, on a green background"


def test_spreading_out_is_not_a_removal(rewriter):
    edit = rewriter.rewrite("spread them out", prompt=TWO, history=[(TWO, TWO)])
    assert "circle" in edit.prompt and "square" in edit.prompt


# ------------------------------------------------------------------ shape world: darker / lighter
@pytest.mark.parametrize("message, prompt, expected, reply", [
    ("make the circle darker", ONE, ONE, "no darker red"),
    ("make it darker", ONE, ONE, "no darker red"),
    ("make the circle lighter", ONE, "a big orange circle on the left, on a blue background", "nearest lighter"),
    ("make the square darker", TWO, TWO, "no darker blue"),
    ("darker background", ONE, ONE, "no darker blue"),
    ("the background is too bright", ONE, ONE, "no darker blue"),
    ("make the circle a bit darker", "a small yellow circle in the center, on a black background",
     "a small orange circle in the center, on a black background", "nearest darker"),
    ("a lighter background", "a small blue square at the top, on an orange background",
     "a small blue square at the top, on a yellow background", "nearest lighter"),
    # the colour there already, said again
    ("a darker red", ONE, ONE, "no darker red"),
    ("lighter blue for the square", TWO, TWO, "no lighter blue"),
    ("make the red one lighter", TWO, "a big orange circle on the left and a small blue square on the right, "
     "on a green background", "nearest lighter"),
])
def test_darker_and_lighter_use_the_palette_or_say_why_not(rewriter, message, prompt, expected, reply):
    edit = run(rewriter, message, prompt)
    assert edit.prompt == expected
    assert reply in edit.reply
    assert "dark" not in edit.prompt and "light" not in edit.prompt  # never a word the painter does not know


SQUARE = "a big red square on the left, on a blue background"


@pytest.mark.parametrize("message, prompt, expected", [
    ("make it green and round", SQUARE, "a big green circle on the left, on a blue background"),
    ("make it round and yellow", SQUARE, "a big yellow circle on the left, on a blue background"),
    ("make the circle small and purple", ONE, "a small purple circle on the left, on a blue background"),
])
def test_a_bare_value_after_and_takes_the_verb_before_it(rewriter, message, prompt, expected):
    assert run(rewriter, message, prompt).prompt == expected


def test_an_unsaid_size_made_bigger_says_only_why_not(rewriter):
    edit = run(rewriter, "bigger", "a red square, on a yellow background")
    assert edit.reply == "The square is already big: the painter draws two sizes, small and big."


@pytest.mark.parametrize("message, reply", [
    ("make the circle bigger", "The circle is already big"),
    ("it's too small", "The circle is already big"),
    ("the square is too big", "The square is already small"),
])
def test_a_size_past_the_painters_two_says_so(rewriter, message, reply):
    edit = run(rewriter, message, TWO)
    assert edit.prompt == TWO and reply in edit.reply and "two sizes" in edit.reply


# ------------------------------------------------------------------ shape world: colours said loosely
@pytest.mark.parametrize("message, expected", [
    ("greenish", "a big green circle on the left, on a blue background"),
    ("make it reddish orange", "a big orange circle on the left, on a blue background"),
    ("make it gray", "a big white circle on the left, on a blue background"),
    ("not red", "a big yellow circle on the left, on a blue background"),
    ("i dont like red", "a big yellow circle on the left, on a blue background"),
    ("anything but red", "a big yellow circle on the left, on a blue background"),
    ("random colour", "a big yellow circle on the left, on a blue background"),
    ("make it green, not red", "a big green circle on the left, on a blue background"),
])
def test_loose_colours(rewriter, message, expected):
    assert run(rewriter, message, ONE).prompt == expected


def test_a_clash_with_the_background_is_said(rewriter):
    edit = run(rewriter, "make both green", TWO)
    assert "green circle" not in edit.prompt and "green square" not in edit.prompt
    assert "can't match the green background" in edit.reply
    assert "to green" not in edit.reply  # the reply says what was painted, not what was asked


@pytest.mark.parametrize("message", ["make the square the same colour as the background",
                                     "change the background to match the square"])
def test_a_shape_cannot_take_the_background_colour(rewriter, message):
    edit = run(rewriter, message, TWO)
    assert edit.prompt == TWO
    assert "background" in edit.reply and "disappear" in edit.reply


# ------------------------------------------------------------------ shape world: shapes, places, sizes
@pytest.mark.parametrize("message, prompt, expected", [
    ("square instead", ONE, "a big red square on the left, on a blue background"),
    ("i want a triangle instead", ONE, "a big red triangle on the left, on a blue background"),
    ("a small blue square instead", "a big red circle on the left, on a white background",
     "a small blue square on the left, on a white background"),
    ("raise it", ONE, "a big red circle at the top, on a blue background"),
    ("flip it", ONE, "a big red circle on the right, on a blue background"),
    ("mirror it", ONE, "a big red circle on the right, on a blue background"),
    ("make the circle and the square yellow", TWO,
     "a big yellow circle on the left and a small yellow square on the right, on a green background"),
    ("make the circle and square yellow", TWO,
     "a big yellow circle on the left and a small yellow square on the right, on a green background"),
])
def test_shape_position_and_grouped_edits(rewriter, message, prompt, expected):
    assert run(rewriter, message, prompt).prompt == expected


@pytest.mark.parametrize("message, prompt, reply", [
    ("medium size", ONE, "two sizes"),
    ("make it normal size", ONE, "two sizes"),
    ("add a triangle", TWO, "at most two shapes"),
    ("add a yellow triangle in the center", TWO, "at most two shapes"),
    ("move the circle next to the square", TWO, "already next to"),
])
def test_what_the_painter_cannot_do_is_said_and_nothing_changes(rewriter, message, prompt, reply):
    edit = run(rewriter, message, prompt)
    assert edit.prompt == prompt
    assert reply in edit.reply


def test_shape_conversation_with_history(rewriter):
    edits = conversation(rewriter, [
        "a red circle", "make it bigger", "move it to the right", "make it green", "go back",
        "make it green again", "put it back on the left", "add a blue square", "same colour for both", "delete both"])
    prompts = [e.prompt for e in edits]
    assert prompts[4] == "a big red circle on the right"
    assert prompts[5] == "a big green circle on the right"
    assert prompts[6] == "a big green circle on the left"
    assert prompts[8] == "a big blue circle on the left and a big blue square on the right"  # the colour just added
    assert prompts[9] == prompts[8] and "at least one shape" in edits[9].reply


# ------------------------------------------------------------------ general: hedges and fillers
@pytest.mark.parametrize("message, prompt, words", [
    ("could you possibly make it a bit more moody?", CABIN, ["moody", "cabin", "oil painting"]),
    ("hmm not sure, maybe at dawn", CABIN, ["at dawn", "cabin"]),
    ("i'm not sure... make it night", CABIN, ["at night"]),
    ("tidy it up", CABIN, ["simple", "cabin"]),
])
def test_hedges_and_fillers(rewriter, message, prompt, words):
    assert has(run(rewriter, message, prompt).prompt, *words)


# ------------------------------------------------------------------ general: camera, media, artists, tones
@pytest.mark.parametrize("message, words, gone", [
    ("blurry background", ["blurred background", "oil painting"], []),
    ("bokeh", ["bokeh"], []),
    ("tilt shift", ["tilt-shift"], []),
    ("telephoto", ["telephoto lens"], []),
    ("shot on 35mm", ["35mm lens"], []),
    ("birds eye view", ["bird's-eye view"], []),
    ("switch to gouache", ["gouache painting"], ["oil painting"]),
    ("cezanne", ["in the style of cezanne"], ["oil painting"]),
    ("andy warhol style", ["andy warhol"], ["oil painting"]),
    ("like a painting by vermeer", ["vermeer"], ["oil painting"]),
    ("kodak portra", ["kodak portra"], ["oil painting"]),
    ("octane render", ["octane render"], ["oil painting"]),
    ("hygge vibes", ["cozy"], []),
    ("cooler tones", ["cool tones"], []),
    ("warmer colors", ["warm colors"], []),
    ("victorian style", ["victorian style"], ["oil painting"]),
    ("make it look like a renaissance painting", ["renaissance painting"], ["oil painting", "like a"]),
    ("1950s aesthetic", ["1950s style"], ["oil painting"]),
])
def test_camera_media_and_style_words(rewriter, message, words, gone):
    edit = run(rewriter, message, CABIN)
    assert has(edit.prompt, "cabin", *words), edit.prompt
    assert not any(g in edit.prompt for g in gone), edit.prompt
    assert "literally" not in edit.reply


def test_new_style_words_are_not_taken_from_subjects(rewriter):
    # "modern", "victorian", "cute" describe things too: a new style must not drop them
    edit = run(rewriter, "make it a watercolor", "a cute puppy in a victorian house, modern art")
    assert has(edit.prompt, "cute puppy", "victorian house", "watercolor")


def test_unknown_movement_words_are_added_not_refused(rewriter):
    assert has(run(rewriter, "solarpunk", CABIN).prompt, "solarpunk")


def test_in_colour_on_a_colour_picture_is_already_so(rewriter):
    edit = run(rewriter, "in color", CABIN)
    assert edit.prompt == CABIN


# ------------------------------------------------------------------ general: pronouns and people
@pytest.mark.parametrize("message, prompt, words, gone", [
    ("he is too old", FISHER, ["young fisherman"], ["old fisherman"]),
    ("she looks too young", "a portrait of a young woman reading, photo", ["old woman"], ["young"]),
    ("he should be holding a fish", FISHER, ["old fisherman holding a fish"], []),
    ("make him jump", "a golden retriever playing in the snow, photo", ["golden retriever jumping"], []),
    ("make her sleep", "a golden retriever playing in the snow, photo", ["retriever sleeping"], []),
])
def test_pronouns_and_statements_about_people(rewriter, message, prompt, words, gone):
    edit = run(rewriter, message, prompt)
    assert has(edit.prompt, *words), edit.prompt
    assert not any(g in edit.prompt for g in gone), edit.prompt


# ------------------------------------------------------------------ general: history
def test_value_corrections_and_bringing_things_back(rewriter):
    edits = conversation(rewriter, [
        "a small boat on a lake", "make it sunset", "make the boat red", "no, blue", "nope, watercolor",
        "add bats", "bring back the bats", "remove the bats", "bring back the bats",
        "put a dragon on the tower", "dragon -> phoenix", "go back to the dragon"])
    prompts = [e.prompt for e in edits]
    assert "blue boat" in prompts[3] and "red" not in prompts[3] and "literally" not in edits[3].reply
    assert "watercolor" in prompts[4]
    assert prompts[6] == prompts[5] and edits[6].reply == "It already looks like that."
    assert "bats" not in prompts[7] and "bats" in prompts[8]
    assert "phoenix" in prompts[10]
    assert "dragon" in prompts[11] and "phoenix" not in prompts[11]


def test_general_conversation(rewriter):
    edits = conversation(rewriter, [
        "a cat on a windowsill, oil painting", "make it night", "add rain outside", "make the cat black",
        "go back", "add a plant", "remove the plant", "bring it back", "make it a watercolor", "thanks that's great",
        "more cozy", "undo"])
    prompts = [e.prompt for e in edits]
    assert "black" not in prompts[4] and "at night" in prompts[4]
    assert "plant" in prompts[7] and "watercolor" in prompts[8]
    assert prompts[9] == prompts[8]
    assert prompts[11] == prompts[9]


# ------------------------------------------------------------------ shape world: more phrasings
@pytest.mark.parametrize("message, prompt, expected", [
    ("recolor the backdrop", TWO, "a big red circle on the left and a small blue square on the right, on a yellow background"),
    ("decrease the circle", TWO, "a small red circle on the left and a small blue square on the right, on a green background"),
    ("increase the size of the square", TWO, "a big red circle on the left and a big blue square on the right, on a green background"),
    ("invert the colours", TWO, "a big green circle on the left and a small orange square on the right, on a red background"),
    ("stack them vertically", TWO, "a big red circle at the top and a small blue square at the bottom, on a green background"),
    ("surprise me", TWO, "a big yellow circle on the left and a small red square on the right, on a green background"),
    ("move it somewhere else", "a big purple square in the center, on a white background",
     "a big purple square on the left, on a white background"),
    ("duplicate it", "a small yellow triangle at the top, on a black background",
     "a small yellow triangle at the top and a small yellow triangle at the bottom, on a black background"),
])
def test_more_shape_phrasings(rewriter, message, prompt, expected):
    assert run(rewriter, message, prompt).prompt == expected


@pytest.mark.parametrize("message, prompt, reply", [
    ("rotate the square", TWO, "flat, solid"),
    ("make the circle a star", TWO, "flat, solid"),
    ("add a star", TWO, "flat, solid"),
    ("outline only", ONE, "flat, solid"),
    ("put it in a corner", "a big purple square in the center, on a white background", "not in a corner"),
    ("what about the square?", TWO, "What should change on the square"),
    ("and the square?", TWO, "What should change on the square"),
])
def test_shape_requests_the_painter_cannot_draw_are_answered(rewriter, message, prompt, reply):
    edit = run(rewriter, message, prompt)
    assert edit.prompt == prompt
    assert reply in edit.reply


@pytest.mark.parametrize("message", ["leave it", "do nothing", "nevermind", "wait", "what colour is it?",
                                     "what color is the background?"])
def test_non_edits_leave_the_picture(rewriter, message):
    assert run(rewriter, message, ONE).prompt == ONE


# ------------------------------------------------------------------ shape world: going back
BASE = ["a big red circle on the left, on a blue background", "make the circle green", "move it to the right", "make it small"]


@pytest.mark.parametrize("message, expected", [
    ("the earlier colour was better", "a small red circle on the right, on a blue background"),
    ("reset the size", "a big green circle on the right, on a blue background"),
    ("undo the move", "a small green circle on the left, on a blue background"),
    ("like two steps ago", "a big green circle on the left, on a blue background"),
    ("go back one more", "a big green circle on the right, on a blue background"),
])
def test_going_back_in_a_shape_conversation(rewriter, message, expected):
    assert conversation(rewriter, BASE + [message])[-1].prompt == expected


@pytest.mark.parametrize("message, reply", [
    ("change the background back", "background colour hasn't changed"),
    ("the previous background was nicer", "background colour hasn't changed"),
    ("background like before", "background colour hasn't changed"),
])
def test_going_back_to_what_never_changed_is_said(rewriter, message, reply):
    edits = conversation(rewriter, BASE + [message])
    assert edits[-1].prompt == edits[-2].prompt
    assert reply in edits[-1].reply


# ------------------------------------------------------------------ shape world: follow-ups that name the other shape
def test_redirect_to_the_other_shape(rewriter):
    edits = conversation(rewriter, [TWO, "make the circle yellow", "oops, the square"])
    assert edits[-1].prompt == "a big red circle on the left and a small yellow square on the right, on a green background"


def test_redirect_naming_the_shape_just_changed_moves_nothing(rewriter):
    edits = conversation(rewriter, [TWO, "make the square big", "wrong one, the square"])
    assert edits[-1].prompt == edits[-2].prompt  # was: the change moved to the circle
    assert "What should change on the square" in edits[-1].reply


@pytest.mark.parametrize("message, reply", [
    ("the other one as well", "only one shape"),
    ("now make them swap", "only one shape"),
    ("make the square match it", "only one shape"),
    ("oops, the square", "no square"),
    ("more", "no in-between"),
    ("a bit less", "no in-between"),
])
def test_single_shape_follow_ups_are_answered(rewriter, message, reply):
    edits = conversation(rewriter, ["a small purple triangle at the top, on a white background", "move it to the bottom", message])
    assert edits[-1].prompt == edits[-2].prompt
    assert reply in edits[-1].reply


@pytest.mark.parametrize("message", ["ugh no", "not like that", "that looks weird"])
def test_complaints_are_small_talk(rewriter, message):
    assert run(rewriter, message, CABIN).prompt == CABIN


# ------------------------------------------------------------------ leading fillers ("great, ...", "ok, ...")
@pytest.mark.parametrize("message, expected", [
    ("great, make the square yellow", "a big red circle on the left and a small yellow square on the right, on a green background"),
    ("ok, make the circle small", "a small red circle on the left and a small blue square on the right, on a green background"),
    ("cool, now make the background white", "a big red circle on the left and a small blue square on the right, on a white background"),
    ("ugh, make the square bigger", "a big red circle on the left and a big blue square on the right, on a green background"),
    ("yeah, swap them", "a small blue square on the left and a big red circle on the right, on a green background"),
])
def test_shape_requests_after_a_filler(rewriter, message, expected):
    assert run(rewriter, message, TWO).prompt == expected


def test_background_named_alone_asks_for_a_colour(rewriter):
    edit = run(rewriter, "alright, just the background", TWO)
    assert edit.prompt == TWO and "What colour should the background be" in edit.reply


@pytest.mark.parametrize("message", ["actually, leave it", "great, one more time", "yeah, keep the colour", "meh, that's the one",
                                     "thanks, that's the one"])
def test_small_talk_after_a_filler(rewriter, message):
    assert run(rewriter, message, CABIN).prompt == CABIN


def test_keep_the_x_but_is_still_an_edit(rewriter):
    assert "during the day" in run(rewriter, "keep the cabin but make it daytime", "a cabin in a snowy forest at night, oil painting").prompt


@pytest.mark.parametrize("message", ["like before please", "the previous one", "ok, the previous one"])
def test_like_before_is_an_undo(rewriter, message):
    edits = conversation(rewriter, [CABIN, "make it night", message])
    assert edits[-1].prompt == CABIN


@pytest.mark.parametrize("message", ["sorry, move it back", "no, back to red"])
def test_general_revert_with_nothing_to_go_back_to_is_said(rewriter, message):
    edits = conversation(rewriter, [CABIN, "make it night", message])
    assert edits[-1].prompt == edits[-2].prompt
    assert "no earlier change" in edits[-1].reply


# ------------------------------------------------------------------ general: comparatives, eras, questions
LIGHTHOUSE = "a lighthouse on a rocky coast at sunset, oil painting"
CAFE = "a young woman with red hair reading a book in a cafe, photo"


@pytest.mark.parametrize("message, prompt, words, gone", [
    ("brighter sky", LIGHTHOUSE, ["bright sky", "lighthouse"], []),
    ("bigger waves", LIGHTHOUSE, ["big waves", "lighthouse"], []),
    ("tone it down", LIGHTHOUSE, ["muted colors"], []),
    ("candid shot", CAFE, ["candid shot"], []),
    ("close-up on her face", CAFE, ["close-up"], ["on her face"]),
    ("in the 1950s", CAFE, ["1950s style"], []),
    ("1920s", CAFE, ["1920s style"], []),
    ("make it 1970s", CAFE, ["1970s style"], []),
    ("make it look like a photo from the 70s", CAFE, ["1970s vintage photo"], ["from the 70s"]),
    ("like an old 50s photograph", CAFE, ["1950s vintage photo"], ["old 50s"]),
    # "less X" with no X in the prompt asks for the opposite
    ("less saturated", CAFE, ["muted colors"], []),
    ("make it less gloomy", LIGHTHOUSE, ["cheerful"], []),
    # "i want ... instead", "i want it ...": the request after the hedge
    ("I want a sunrise instead", LIGHTHOUSE, ["sunrise"], ["sunset"]),
    ("I want it at night", LIGHTHOUSE, ["night"], ["sunset", "it at night"]),
])
def test_comparatives_views_and_eras(rewriter, message, prompt, words, gone):
    edit = run(rewriter, message, prompt)
    assert has(edit.prompt, *words), edit.prompt
    assert not any(g in edit.prompt for g in gone), edit.prompt
    assert "literally" not in edit.reply


@pytest.mark.parametrize("message", ["try again", "another version please", "ok, another take", "reroll",
                                     "give me a different one", "new seed"])
def test_try_again_asks_for_another_take_of_the_same_prompt(rewriter, message):
    edit = run(rewriter, message, LIGHTHOUSE)
    assert edit.intent == "reroll" and edit.prompt == LIGHTHOUSE


@pytest.mark.parametrize("message", ["add another lighthouse", "another boat", "again", "make it red again"])
def test_other_agains_are_not_a_new_take(rewriter, message):
    assert not rewriter.rewrite(message, prompt=LIGHTHOUSE, history=[(LIGHTHOUSE, LIGHTHOUSE)]).intent == "reroll"


PORTRAIT = "a portrait of an old man with a grey beard wearing a hat, studio lighting, photo"


@pytest.mark.parametrize("message, words, gone", [
    ("he should look angry", ["angry old man"], ["should"]),
    ("the man should look sad", ["sad old man"], ["should"]),
    ("shave the beard", ["old man"], ["beard"]),
])
def test_how_someone_should_look_and_shaving(rewriter, message, words, gone):
    edit = run(rewriter, message, PORTRAIT)
    assert has(edit.prompt, *words) and not any(g in edit.prompt for g in gone), edit.prompt


CAR = "a red sports car parked on a city street at night, neon signs, rain, cinematic"


@pytest.mark.parametrize("message, prompt, phrase", [
    ("make the car blue", CAR, "a blue sports car"),  # where the old colour was
    ("make the car bigger", CAR, "a big red sports car"),  # size before colour
    ("make the street wet", CAR, "a wet city street"),
    ("make him look angry", PORTRAIT, "an angry old man"),
    ("make the beard longer", PORTRAIT, "a long grey beard"),
])
def test_a_new_adjective_takes_its_place_in_english_order(rewriter, message, prompt, phrase):
    assert phrase in run(rewriter, message, prompt).prompt


@pytest.mark.parametrize("message, prompt, expected", [
    ("get rid of everything except the car", CAR, "a red sports car on a plain background, cinematic"),
    ("keep only the hat", PORTRAIT, "a hat on a plain background, photo"),
    ("remove the background", PORTRAIT,
     "a portrait of an old man with a grey beard wearing a hat on a plain background, photo"),
])
def test_keeping_one_thing_alone_puts_it_on_a_plain_background(rewriter, message, prompt, expected):
    edit = run(rewriter, message, prompt)
    assert edit.prompt == expected and edit.region == "background"


@pytest.mark.parametrize("message, prompt, expected, reply", [
    ("put the car in the desert", CAR, "a red sports car in the desert at night, neon signs, rain, cinematic",
     "Put the car in the desert."),
    ("put the cat on the sofa", "a cat sleeping on a windowsill, photo", "a cat sleeping on the sofa, photo",
     "Put the cat on the sofa."),
    ("put the retriever on the beach", "a golden retriever sitting on a porch of a wooden house, photograph",
     "a golden retriever on the beach, photograph", "Put the retriever on the beach."),
    ("move the car to the left", CAR, "a red sports car on the left parked on a city street at night, neon signs, "
     "rain, cinematic", "Moved the car to the left."),
])
def test_a_new_place_replaces_the_old_one(rewriter, message, prompt, expected, reply):
    edit = run(rewriter, message, prompt)
    assert (edit.prompt, edit.reply) == (expected, reply)


@pytest.mark.parametrize("message, words", [
    ("make the colors pop", ["vibrant colors"]), ("more pop", ["vibrant colors"]),
    ("make it look expensive", ["luxurious"]), ("make it look less cheap", ["luxurious"]),
])
def test_vague_wishes_about_colour_and_class(rewriter, message, words):
    assert has(run(rewriter, message, CAR).prompt, *words)


def test_everything_one_colour_is_a_palette(rewriter):
    edit = run(rewriter, "make everything blue", CAR)
    assert "monochromatic blue color palette" in edit.prompt and "literally" not in edit.reply
    again = run(rewriter, "make it all green", edit.prompt).prompt
    assert "monochromatic green color palette" in again and "blue" not in again  # one palette at a time


@pytest.mark.parametrize("message, prompt, expected", [
    ("give it a hat", "a cute red robot in a garden", "a cute red robot with a hat in a garden"),
    ("give it a bow tie", "a photo of a cat on a sofa", "a photo of a cat with a bow tie on a sofa"),
    ("give it a vintage look", "a cute red robot in a garden", "a cute red robot in a garden, vintage photo"),
])
def test_give_it_means_the_pictures_subject(rewriter, message, prompt, expected):
    assert run(rewriter, message, prompt).prompt == expected


def test_change_nothing_leaves_it(rewriter):
    edit = run(rewriter, "change nothing", CAR)
    assert edit.prompt == CAR and "leave it" in edit.reply


RETRIEVER = "a golden retriever sitting on a porch of a wooden house, afternoon light, photograph"


@pytest.mark.parametrize("message, words, gone", [
    ("make the dog black", ["black retriever"], ["black dog", "golden"]),
    ("turn the dog into a cat", ["cat"], ["retriever", "dog"]),
    ("add a dog", ["golden retriever", "a dog"], []),  # a new one: nothing there is meant
])
def test_a_kind_of_thing_names_the_one_the_prompt_calls_otherwise(rewriter, message, words, gone):
    edit = run(rewriter, message, RETRIEVER)
    assert has(edit.prompt, *words) and not any(g in edit.prompt for g in gone), edit.prompt


def test_keeping_a_thing_that_is_not_there_says_so(rewriter):
    edit = run(rewriter, "keep only the hat", CAR)
    assert edit.prompt == CAR and "no hat" in edit.reply and edit.strength <= 0.05


def test_nothing_to_remove_is_said_in_good_grammar(rewriter):
    assert run(rewriter, "no people please", LIGHTHOUSE).reply == "There were no people to remove."
    assert run(rewriter, "remove the cat", LIGHTHOUSE).reply == "There was no cat to remove."


@pytest.mark.parametrize("message", ["what time of day is it?", "can you explain the picture?", "is it sunset?",
                                     "what style is this?"])
def test_questions_about_the_picture_are_answered(rewriter, message):
    edit = run(rewriter, message, LIGHTHOUSE)
    assert edit.prompt == LIGHTHOUSE and edit.reply.startswith("It shows")


def test_reverse_the_last_two_steps_and_where_did_it_go(rewriter):
    edits = conversation(rewriter, [TWO, "make the circle yellow", "move the square to the left", "can you reverse the last two steps?"])
    assert edits[-1].prompt == TWO
    edits = conversation(rewriter, [TWO, "make the circle yellow", "where did the square go?"])
    assert edits[-1].prompt == edits[-2].prompt and edits[-1].reply.startswith("It shows")


# ------------------------------------------------------------------ general: image operations, quality words, "that"
CAR = "a red car parked on a city street, photo"


@pytest.mark.parametrize("message", ["rotate it", "crop it", "flip it horizontally", "make it 16:9", "animate it", "wait, sign it"])
def test_image_operations_are_explained(rewriter, message):
    edit = run(rewriter, message, CAR)
    assert edit.prompt == CAR and "image editor" in edit.reply


@pytest.mark.parametrize("message", ["4k please", "nice, 4k please", "hd", "wow, not so dark"])
def test_quality_words_and_wow(rewriter, message):
    edit = run(rewriter, message, CAR)
    assert edit.prompt != CAR and "literally" not in edit.reply


def test_remove_that_names_the_thing_just_added(rewriter):
    edits = conversation(rewriter, [CAR, "add a dog", "remove that"])
    assert "dog" not in edits[-1].prompt and "car" in edits[-1].prompt


def test_remove_that_with_nothing_to_point_at_asks(rewriter):
    edit = run(rewriter, "remove that", CAR)
    assert edit.prompt == CAR and edit.reply.startswith("Which thing should I remove")


def test_new_words_do_not_drop_compatible_ones(rewriter):
    # colour tones are lighting, not mood: the castle stays spooky; 'christmassy' is added, 'cozy' kept
    assert has(run(rewriter, "cooler tones", "a spooky castle on a hill, oil painting").prompt, "spooky", "cool tones")
    assert has(run(rewriter, "more christmassy", "a cozy living room with a fireplace, digital art").prompt, "cozy", "christmassy")
    # a pronoun for an animal names it with one word, so 'give him ...' stays readable
    assert run(rewriter, "give him a red collar", "a golden retriever playing in the snow, photo").prompt == \
        "a golden retriever with a red collar playing in the snow, photo"


@pytest.mark.parametrize("message, words", [("warmer light please", ["warm lighting"]), ("warmer colors", ["warm colors"]),
                                            ("a bit moodier", ["moody"])])
def test_comparatives_of_scene_words_reach_the_base_term(rewriter, message, words):
    # a lexicon key that is itself a comparative ('warmer colors') once kept 'warmer light' from reading as 'warm light'
    edit = run(rewriter, message, CAR)
    assert has(edit.prompt, *words) and "literally" not in edit.reply


@pytest.mark.parametrize("message", ["i'd like the square orange", "switch the square to orange", "the square, orange",
                                     "square: orange", "how about making the square orange", "{v} for the square".format(v="orange")])
def test_one_colour_request_in_many_forms(rewriter, message):
    assert run(rewriter, message, TWO).prompt == \
        "a big red circle on the left and a small orange square on the right, on a green background"


def test_switch_alone_still_swaps(rewriter):
    assert run(rewriter, "switch them", TWO).prompt == \
        "a small blue square on the left and a big red circle on the right, on a green background"


@pytest.mark.parametrize("message, words", [("fireflies", ["fireflies"]), ("autumnal", ["in autumn"]), ("chibi", ["chibi style"])])
def test_compound_nouns_seasons_and_chibi(rewriter, message, words):
    assert has(run(rewriter, message, "a wooden bridge over a river in a forest, digital painting").prompt, "bridge", *words)


def test_gibberish_still_falls_back(rewriter):
    edit = rewriter.rewrite("flurbgrotz", prompt=CAR, history=[(CAR, CAR)])
    assert edit.prompt == CAR and not rewriter.last.usable


@pytest.mark.parametrize("steps, expected", [
    (["a golden retriever on a porch", "swap the dog for a tabby cat"], "a tabby cat on a porch"),
    (["a vintage car parked on a city street", "make the car blue", "now make it red", "go back to the blue one"],
     "a blue vintage car parked on a city street"),
    (["three ducks in a pond", "actually just one duck"], "one duck in a pond"),
    (["a latte on a wooden table"], "a latte on a wooden table"),
    (["a wooden chair next to a table with two cups on it, in a kitchen", "Change the count of the cups to 3",
      "Change the background to a park, keep the chair unchanged"],
     "a wooden chair next to a table with 3 cups on it, in a park"),
])
def test_a_conversation_rewrites_instead_of_appending(rewriter, steps, expected):
    prompt, history = None, []
    for message in steps:
        edit = rewriter.rewrite(message, prompt=prompt, history=history)
        prompt = edit.prompt
        history.append((message, prompt))
    assert prompt == expected


def test_going_back_to_a_style_keeps_the_later_changes(rewriter):
    steps = ["an astronaut with a guitar sitting on the moon, digital art", "make it a pencil sketch",
             "swap the guitar for a violin", "go back to digital art"]
    prompt, history = None, []
    for message in steps:
        edit = rewriter.rewrite(message, prompt=prompt, history=history)
        prompt = edit.prompt
        history.append((message, prompt))
    assert "violin" in prompt and "digital art" in prompt and "pencil" not in prompt and edit.source == "history"


def test_a_new_style_keeps_what_the_thing_itself_is(rewriter):
    """'vintage' in 'a red vintage car' is the car's, not the picture's style."""
    prompt = "a red vintage car parked on a city street, photo"
    edit = run(rewriter, "make it look like a watercolor painting", prompt)
    assert edit.prompt == "a red vintage car parked on a city street, watercolor painting"
