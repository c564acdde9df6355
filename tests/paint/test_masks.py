import numpy as np
from PIL import Image, ImageDraw

from chatimg.paint.masks import (
    background_mask,
    composite_objects,
    edit_mask,
    match_seam_colours,
    move_objects,
    object_alpha,
    recolour_objects,
    region_mask,
    resize_object,
)
from chatimg.shapeworld import read_image, render
from chatimg.shapeworld.scene import Scene, Shape

BLUE, GREEN, RED = (30, 60, 200), (30, 170, 60), (220, 30, 30)


def test_region_mask_shapes():
    mask = np.asarray(region_mask("right", (64, 64)))
    assert mask[:, -1].min() == 255 and mask[:, 0].max() == 0
    assert region_mask("whole", (64, 64)) is None


def test_seam_colours_follow_the_original_along_the_mask_edge():
    original = Image.new("RGB", (64, 64), (30, 60, 200))
    repainted = Image.new("RGB", (64, 64), (40, 70, 190))  # the model's slight tint
    repainted.paste((250, 250, 0), (8, 24, 24, 40))  # what the edit drew, inside the region
    matched = np.asarray(match_seam_colours(repainted, original, region_mask("left", (64, 64))))
    assert tuple(matched[32, 2]) == (30, 60, 200)  # background inside the region: no box
    assert tuple(matched[32, 16]) == (240, 240, 10)  # the drawn shape keeps its contrast


def test_the_background_mask_is_the_backdrop_only():
    image = render(Scene("blue", (Shape("circle", "red", "big", "left"), Shape("square", "yellow", "small", "right"))),
                   seed=1, size=64)
    mask = np.asarray(background_mask(image)) > 0
    assert mask[:, :3].all() and mask[:3].all()  # the border is backdrop
    alpha = object_alpha(image)
    assert not mask[alpha > 0.99].any()  # no solid object pixel is repainted
    assert 0.5 < mask.mean() < 0.95
    assert edit_mask("background", image) is not None and edit_mask("whole", image) is None


def test_busy_or_empty_images_have_no_background_mask():
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    assert object_alpha(noise) is None and background_mask(noise) is None
    assert background_mask(Image.new("RGB", (64, 64), BLUE)) is None  # nothing in front of it
    half = Image.new("RGB", (64, 64), BLUE)
    half.paste(RED, (0, 0, 64, 40))  # the border disagrees: no single backdrop
    assert background_mask(half) is None


def test_objects_are_pasted_on_the_new_background_without_the_old_one_around_them():
    scene = Scene("blue", (Shape("circle", "red", "big", "left"),))
    original = render(scene, seed=2, size=64)
    ys, xs = np.nonzero(object_alpha(original) > 0.5)
    repainted = Image.new("RGB", (64, 64), GREEN)
    ImageDraw.Draw(repainted).ellipse((xs.min() + 2, ys.min() - 2, xs.max() + 2, ys.max() - 2), fill=(200, 40, 40))
    out = np.asarray(composite_objects(original, repainted)).astype(int)
    old = np.asarray(original).astype(int)
    solid = object_alpha(original) > 0.99
    assert (out[solid] == old[solid]).all()  # the object's own pixels are kept exactly
    assert (out[:2] == GREEN).all()  # away from it: the new background
    bluish = (out[..., 2] > 120).sum()  # the old backdrop's colour, left around the outline
    assert bluish == 0
    assert read_image(Image.fromarray(out.astype(np.uint8))) == read_image(render(Scene("green", scene.shapes), seed=2))


def test_a_move_cuts_the_object_out_and_pastes_it_at_the_new_place():
    before = Scene("blue", (Shape("circle", "red", "big", "left"), Shape("square", "yellow", "small", "right")))
    after = Scene("blue", (Shape("circle", "red", "big", "top"), Shape("square", "yellow", "small", "right")))
    original = render(before, seed=4, size=64)
    moved = move_objects(original, [("left", "top")])
    assert read_image(moved) == read_image(render(after, seed=4))
    old, new = np.asarray(original).astype(int), np.asarray(moved).astype(int)
    assert (new[24:40, 56:] == old[24:40, 56:]).all()  # the other shape: untouched
    assert (new[:, 2] == old[:, 2]).all()  # the far left edge: backdrop as before


def test_a_move_takes_none_of_a_near_neighbour():
    """Two objects 2 px apart: the moved one's soft-outline reach covers the other's edge, which
    must neither travel with it nor be filled in with backdrop."""
    image = Image.new("RGB", (64, 64), (0, 0, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((6, 24, 21, 39), fill=(255, 0, 0))
    draw.rectangle((24, 26, 35, 37), fill=(255, 255, 0))
    moved = np.asarray(move_objects(image, [("left", "bottom")])).astype(int)
    yellow = (moved == (255, 255, 0)).all(-1)
    assert yellow[26:38, 24:36].all() and yellow.sum() == 12 * 12


def test_a_move_to_its_own_anchor_centres_the_object_there():
    """A real model drew "a red circle" off-centre; "move it to the center" settles it there."""
    drawn = render(Scene("blue", (Shape("circle", "red", "small", "center"),)), seed=4, size=64)
    off = Image.new("RGB", drawn.size, drawn.getpixel((0, 0)))
    off.paste(drawn.crop((0, 0, 58, 58)), (6, 6))  # the circle 6 px right of and below the centre
    moved = move_objects(off, [("center", "center")])

    def centroid(image):
        ys, xs = np.nonzero(object_alpha(image) > 0.5)
        return xs.mean(), ys.mean()

    assert min(centroid(off)) > 36  # off-centre before (the picture's centre is 31.5..32)
    assert all(abs(v - 32) <= 1 for v in centroid(moved))  # settled on the centre anchor
    assert read_image(moved) == read_image(drawn)


def test_a_move_needs_an_object_at_the_source_on_a_flat_backdrop():
    image = render(Scene("blue", (Shape("circle", "red", "big", "left"),)), seed=4, size=64)
    assert move_objects(image, [("right", "top")]) is None  # nothing on the right
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    assert move_objects(noise, [("left", "right")]) is None


def test_a_side_region_leaves_out_objects_that_belong_elsewhere():
    scene = Scene("green", (Shape("circle", "red", "big", "top"), Shape("square", "yellow", "small", "right")))
    image = render(scene, seed=5, size=64)
    alpha = object_alpha(image)
    mask = np.asarray(edit_mask("right", image)).astype(int)
    box = np.asarray(region_mask("right", (64, 64))).astype(int)
    circle = (alpha > 0.5) & (np.arange(64)[:, None] < 24)  # the disc at the top, half of it in the right half
    assert (mask[circle] == 0).all() and (box[circle] > 0).any()
    square = (alpha > 0.5) & (np.arange(64)[:, None] > 30) & (np.arange(64)[None, :] > 40)
    assert (mask[square] > 200).all()  # the square on the right is still repainted
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    assert (np.asarray(edit_mask("right", noise)) == np.asarray(region_mask("right", (64, 64)))).all()



def test_two_objects_can_swap_places():
    before = Scene("white", (Shape("circle", "red", "big", "left"), Shape("triangle", "blue", "small", "right")))
    after = Scene("white", (Shape("circle", "red", "big", "right"), Shape("triangle", "blue", "small", "left")))
    swapped = move_objects(render(before, seed=6, size=64), [("left", "right"), ("right", "left")])
    assert read_image(swapped) == read_image(render(after, seed=6))


def test_a_moved_object_leaves_no_ghost_of_its_soft_outline():
    from PIL import ImageFilter

    scene = Scene("black", (Shape("circle", "red", "big", "left"),))
    soft = render(scene, seed=3, size=64).filter(ImageFilter.GaussianBlur(1.5))  # painted edges are soft
    noisy = np.asarray(soft).astype(int) + np.random.default_rng(1).integers(-4, 5, (64, 64, 3))
    image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    moved = np.asarray(move_objects(image, [("left", "right")])).astype(int)
    old_place = moved[16:48, 2:30]
    assert np.abs(old_place - np.median(noisy[:4].reshape(-1, 3), axis=0)).max() < 12


def test_an_object_touching_the_border_still_leaves_a_flat_backdrop():
    image = Image.new("RGB", (64, 64), BLUE)
    image.paste(RED, (14, 30, 50, 64))  # a big shape at the bottom, cut by the image edge
    assert background_mask(image) is not None
    ground = Image.new("RGB", (64, 64), (120, 170, 240))
    ground.paste((70, 130, 50), (0, 40, 64, 64))  # sky and ground: no single backdrop
    assert background_mask(ground) is None


def test_a_background_edit_does_not_keep_objects_the_model_added():
    scene = Scene("blue", (Shape("circle", "red", "big", "right"),))
    original = render(scene, seed=2, size=64)
    repainted = Image.new("RGB", (64, 64), GREEN)
    repainted.paste((240, 220, 20), (6, 26, 18, 38))  # a yellow square the prompt never asked for
    out = composite_objects(original, repainted)
    assert read_image(out) == read_image(render(Scene("green", scene.shapes), seed=2))


def test_a_blob_the_model_grew_onto_a_kept_object_goes_too():
    scene = Scene("blue", (Shape("square", "red", "big", "bottom"),))
    original = render(scene, seed=2, size=64)
    ys, xs = np.nonzero(object_alpha(original) > 0.5)
    repainted = Image.new("RGB", (64, 64), GREEN)
    # the model drew the square again, up and to the right, touching the kept one
    repainted.paste(RED, (xs.min() + 10, ys.min() - 12, xs.max() + 10, ys.max() - 12))
    out = composite_objects(original, repainted)
    assert read_image(out) == read_image(render(Scene("green", scene.shapes), seed=2))


def test_a_recolour_changes_the_objects_colour_and_nothing_else():
    from chatimg.shapeworld.vocab import COLOURS

    before = Scene("blue", (Shape("square", "purple", "small", "left"), Shape("circle", "yellow", "big", "right")))
    after = Scene("blue", (Shape("square", "white", "small", "left"), Shape("circle", "yellow", "big", "right")))
    original = render(before, seed=3, size=64)
    recoloured = recolour_objects(original, "left", [(COLOURS["purple"], COLOURS["white"])])
    assert read_image(recoloured) == read_image(render(after, seed=3))
    old, new = np.asarray(original).astype(int), np.asarray(recoloured).astype(int)
    changed = np.abs(new - old).sum(axis=-1) > 0
    assert changed[object_alpha(original) > 0.99].any()
    assert not changed[:, 32:].any()  # the circle and the backdrop around it: untouched
    assert not changed[object_alpha(original) == 0].any()  # no backdrop pixel recoloured
    assert (object_alpha(recoloured) > 0.5).sum() == (object_alpha(original) > 0.5).sum()  # the same form


def test_a_recolour_leaves_parts_of_another_colour_alone():
    image = Image.new("RGB", (64, 64), (240, 240, 240))
    ImageDraw.Draw(image).rectangle((8, 20, 28, 44), fill=RED)  # a red thing on the left...
    ImageDraw.Draw(image).rectangle((14, 28, 20, 34), fill=(20, 20, 20))  # ...with a black window
    out = np.asarray(recolour_objects(image, "left", [(None, BLUE)])).astype(int)
    assert tuple(out[22, 10]) == BLUE
    assert tuple(out[31, 17]) == (20, 20, 20)


def test_a_recolour_needs_an_object_there_on_a_flat_backdrop():
    image = render(Scene("blue", (Shape("circle", "red", "big", "left"),)), seed=4, size=64)
    assert recolour_objects(image, "right", [(RED, GREEN)]) is None  # nothing on the right
    assert recolour_objects(image, "whole", [(None, GREEN)]) is not None  # the only object
    assert recolour_objects(image, "background", [(None, GREEN)]) is None
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    assert recolour_objects(noise, "left", [(RED, GREEN)]) is None


def test_a_whole_image_recolour_matches_objects_by_their_old_colour():
    from chatimg.shapeworld.vocab import COLOURS as C

    red_blue = Scene("white", (Shape("circle", "red", "big", "left"), Shape("square", "blue", "big", "right")))
    image = render(red_blue, seed=2, size=64)
    swapped = recolour_objects(image, "whole", [(C["red"], C["blue"]), (C["blue"], C["red"])])
    assert read_image(swapped) == read_image(render(Scene("white", (
        Shape("circle", "blue", "big", "left"), Shape("square", "red", "big", "right"))), seed=2))
    both = recolour_objects(image, "whole", [(C["red"], C["green"]), (C["blue"], C["green"])])
    assert [s.colour for s in read_image(both).shapes] == ["green", "green"]
    one = recolour_objects(image, "whole", [(C["blue"], C["yellow"])], others=[C["red"]])
    assert {s.shape: s.colour for s in read_image(one).shapes} == {"circle": "red", "square": "yellow"}
    two_red = render(Scene("white", (Shape("circle", "red", "big", "left"), Shape("square", "red", "big", "right"))),
                     seed=2, size=64)
    assert recolour_objects(two_red, "whole", [(C["red"], C["blue"])], others=[C["red"]]) is None  # which red?
    assert recolour_objects(two_red, "whole", [(C["blue"], C["green"])], others=[C["red"]]) is None  # no blue thing
    assert recolour_objects(image, "whole", [(None, C["green"])]) is None  # which one?
    by_name = recolour_objects(image, "square", [(C["blue"], C["yellow"])], others=[C["red"]])
    assert np.array_equal(np.asarray(by_name), np.asarray(one))  # "the square": no segmenter, so by colour


def test_a_thing_named_on_its_own_is_the_only_object():
    image = render(Scene("white", (Shape("circle", "red", "big", "left"),)), seed=2, size=64)
    assert read_image(recolour_objects(image, "car", [(RED, BLUE)])).shapes[0].colour == "blue"
    assert resize_object(image, "car", 0.5) is not None
    assert recolour_objects(image, "background", [(RED, BLUE)]) is None


def test_a_resize_scales_the_cut_out_object_about_its_centre():
    from chatimg.paint.retouch import SIZE_STEP

    big = Scene("blue", (Shape("square", "purple", "big", "left"), Shape("circle", "yellow", "small", "right")))
    original = render(big, seed=3, size=64)
    shrunk = resize_object(original, "left", 1 / SIZE_STEP)
    assert read_image(shrunk) == read_image(render(Scene("blue", (
        Shape("square", "purple", "small", "left"), Shape("circle", "yellow", "small", "right"))), seed=3))
    old, new = np.asarray(original).astype(int), np.asarray(shrunk).astype(int)
    assert (new[:, 40:] == old[:, 40:]).all()  # the circle: untouched
    assert np.abs(new[20, 6] - old[0, 0]).max() < 8  # where the square was: backdrop
    grown = resize_object(shrunk, "left", SIZE_STEP)
    assert read_image(grown) == read_image(original)


def test_a_resize_needs_room():
    crowded = render(Scene("white", (Shape("circle", "red", "big", "left"), Shape("square", "blue", "small", "center"))),
                     seed=1, size=64)
    assert resize_object(crowded, "center", 2.5) is None  # it would run into the circle
    edge = render(Scene("white", (Shape("circle", "red", "big", "left"),)), seed=1, size=64)
    assert resize_object(edge, "left", 2.0) is None  # it would leave the picture
    assert resize_object(edge, "right", 0.5) is None  # nothing there
