"""Which pixels a region edit repaints, and how the repainted part is put back.

The painter gives diffusers' inpainting pipeline a mask (white = repaint) and then pastes its
output onto the untouched previous image, so everything outside the region stays pixel for
pixel. A side or the centre is a soft box. The background is found by colour: the border's
colour is the backdrop, and each pixel's distance from it is how opaque the object in front
is, so objects are pasted back with their anti-aliased outlines unmixed from the old backdrop
(no halo of the old colour). That needs a flat backdrop; on a busy one (most photos) there is
no background mask and the whole image is edited. On a flat backdrop an object can also be
moved (or two swapped): cut out by the same opacity and pasted at the new place, with no
repainting at all; or recoloured or resized, by the same opacity, keeping its form exactly.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

#: RGB distance from the backdrop colour below which a pixel is pure backdrop (noise, jitter).
BACKDROP_NOISE = 16.0
#: Where a side or the centre is, as fractions of the image (x, y): where a moved object goes,
#: and where the shape world draws and reads its positions (one table for both).
ANCHORS = {"left": (0.25, 0.5), "right": (0.75, 0.5), "top": (0.5, 0.25), "bottom": (0.5, 0.75), "center": (0.5, 0.5)}
#: Least RGB distance from the backdrop colour of an object's own colour.
OBJECT_DISTANCE = 48.0
#: RGB distances from an object's main colour: a recolour moves the pixels up to the first all
#: the way (the colour's own noise and shading), those beyond the second not at all (other parts).
RECOLOUR_SAME, RECOLOUR_REACH = 48.0, 112.0

RGB = tuple[int, int, int]


def region_mask(region: str, size: tuple[int, int]) -> Image.Image | None:
    """A soft box, white where the image may change. ``None`` for the whole image, the
    background (see ``edit_mask``) or a named object (no segmenter is loaded, so an object
    edit falls back to a whole-image edit)."""
    width, height = size
    boxes = {
        "left": (0, 0, width // 2, height),
        "right": (width // 2, 0, width, height),
        "top": (0, 0, width, height // 2),
        "bottom": (0, height // 2, width, height),
        "center": (width // 4, height // 4, 3 * width // 4, 3 * height // 4),
    }
    box = boxes.get(region)
    if box is None:
        return None
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rectangle(box, fill=255)
    # A soft edge blends the repainted part into the kept part.
    return mask.filter(ImageFilter.GaussianBlur(radius=max(1, min(size) // 32)))


def _backdrop(rgb: np.ndarray) -> np.ndarray:
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    return np.median(border, axis=0)


def object_alpha(image: Image.Image) -> np.ndarray | None:
    """How opaque the objects in front of ``image``'s backdrop are, per pixel (0 = backdrop,
    1 = object), or ``None`` when the backdrop is not one flat colour (the border disagrees,
    the objects fill most of the image, or there are none)."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    distance = np.linalg.norm(rgb - _backdrop(rgb), axis=-1)
    backdrop = distance < BACKDROP_NOISE * 2
    border = np.concatenate([backdrop[0], backdrop[-1], backdrop[:, 0], backdrop[:, -1]])
    if border.mean() < 0.75 or backdrop.mean() < 0.25 or backdrop.all():
        return None
    # An outline pixel's opacity is its distance from the backdrop over that of the object's
    # own colour, which is the largest distance close by (a red disc on blue is far from it,
    # a yellow one on orange is not).
    from scipy import ndimage

    radius = _reach(image.size)
    # scipy's square max filter is separable (PIL's MaxFilter is not: seconds at 512 px).
    solid = np.maximum(ndimage.maximum_filter(distance, size=2 * radius + 1), OBJECT_DISTANCE)
    return np.clip((distance - BACKDROP_NOISE) / (solid - BACKDROP_NOISE), 0.0, 1.0)


def _reach(size: tuple[int, int]) -> int:
    """How far (pixels) a painted object's soft outline reaches past its solid part, and so how
    far around an object its colour is looked for and its cut-out taken: a sixteenth of the
    image side, at least 2."""
    return max(2, min(size) // 16)


def background_mask(image: Image.Image) -> Image.Image | None:
    """White wherever ``image`` shows any of its backdrop (objects' outlines included), or
    ``None`` when the backdrop is not flat."""
    alpha = object_alpha(image)
    if alpha is None:
        return None
    return Image.fromarray(((alpha < 0.98) * 255).astype(np.uint8))


def edit_mask(region: str, image: Image.Image) -> Image.Image | None:
    """The mask a region edit of ``image`` repaints (white), or ``None`` to edit it whole.
    On a flat backdrop a side or the centre leaves out the objects that belong to another
    anchor (a big disc at the top reaches into the right half; recolouring the square on the
    right must not repaint half of it)."""
    if region == "background":
        return background_mask(image)
    mask = region_mask(region, image.size)
    if mask is None or region not in ANCHORS:
        return mask
    others = _objects_elsewhere(image, region)
    if others is None or not others.any():
        return mask
    keep = Image.fromarray((others * 255).astype(np.uint8)).filter(ImageFilter.MaxFilter(5))
    keep = keep.filter(ImageFilter.GaussianBlur(radius=1))
    return Image.fromarray((np.asarray(mask, dtype=np.float32) * (1 - np.asarray(keep) / 255.0)).astype(np.uint8))


def _components(alpha: np.ndarray) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The objects (labels 1..n over ``alpha > 0.5``) and their centres as (x, y) fractions.
    Objects that touch are told apart by their cores (the solid part shrunk by two pixels);
    each remaining pixel goes to the nearest core."""
    from scipy import ndimage

    solid = alpha > 0.5
    labels, count = ndimage.label(ndimage.binary_erosion(solid, iterations=2))
    whole, parts = ndimage.label(solid)
    for part in range(1, parts + 1):  # an object too thin to keep a core is one object
        if not labels[whole == part].any():
            count += 1
            labels[whole == part] = count
    if count:
        nearest = ndimage.distance_transform_edt(labels == 0, return_distances=False, return_indices=True)
        labels = np.where(solid, labels[nearest[0], nearest[1]], 0)
    centres = ndimage.center_of_mass(np.ones_like(alpha), labels, range(1, count + 1))
    height, width = alpha.shape
    return labels, [(x / width, y / height) for y, x in centres]


def nearest_anchor(point: tuple[float, float]) -> str:
    """The named position whose anchor is closest to ``point`` (x, y fractions)."""
    return min(ANCHORS, key=lambda name: (ANCHORS[name][0] - point[0]) ** 2 + (ANCHORS[name][1] - point[1]) ** 2)


def _objects_elsewhere(image: Image.Image, region: str) -> np.ndarray | None:
    """Where the objects nearest another anchor than ``region`` are (outlines included), or
    ``None`` when the backdrop is not flat."""
    alpha = object_alpha(image)
    if alpha is None:
        return None
    labels, centres = _components(alpha)
    elsewhere = [i + 1 for i, centre in enumerate(centres) if nearest_anchor(centre) != region]
    return np.isin(labels, elsewhere) if elsewhere else np.zeros(alpha.shape, dtype=bool)


def match_seam_colours(repainted: Image.Image, original: Image.Image, mask: Image.Image) -> Image.Image:
    """Shift the repainted image's colours so that along the mask's soft edge it agrees with
    the original. Models repaint a region with a slight tint, which shows as a box around
    every region edit; the median over the edge band ignores whatever the edit drew there."""
    weight = np.asarray(mask, dtype=np.float32) / 255.0
    band = (weight > 0.02) & (weight < 0.98)
    if not band.any():
        return repainted
    new, old = np.asarray(repainted, dtype=np.float32), np.asarray(original.convert("RGB"), dtype=np.float32)
    shift = np.median(old[band] - new[band], axis=0)
    return Image.fromarray(np.clip(new + shift, 0, 255).round().astype(np.uint8))


def composite_objects(original: Image.Image, repainted: Image.Image) -> Image.Image:
    """``original``'s objects over ``repainted``'s new background.

    Each object pixel is unmixed from the old backdrop by its opacity (an outline pixel that
    was half red, half blue becomes half red, half new colour). Close around the objects the
    new background is its median colour: a model repainting around kept objects draws them
    again a pixel or two off, and those ghosts must not show beside the pasted originals. Nor
    may the model add objects of its own to a flat new background."""
    old = np.asarray(original.convert("RGB"), dtype=np.float32)
    new = np.asarray(repainted.convert("RGB").resize(original.size), dtype=np.float32)
    alpha = object_alpha(original)
    if alpha is None:
        return repainted.resize(original.size)
    from scipy import ndimage

    band = max(3, min(original.size) // 16)
    present = ndimage.maximum_filter(((alpha > 0.02) * 255).astype(np.uint8), size=2 * band + 1)
    near = Image.fromarray(present).filter(ImageFilter.GaussianBlur(band / 2))
    near = np.asarray(near, dtype=np.float32)[..., None] / 255.0
    far = near[..., 0] < 0.01
    plate = new if not far.any() else near * np.median(new[far], axis=0) + (1 - near) * new
    plate = _without_new_objects(plate, near[..., 0] > 0.99, band)
    a = alpha[..., None]
    out = a * _unmixed(old, a) + (1 - a) * plate
    return Image.fromarray(np.clip(out, 0, 255).round().astype(np.uint8))


def _without_new_objects(plate: np.ndarray, kept: np.ndarray, reach: int) -> np.ndarray:
    """``plate`` (a repainted background) with whatever stands out from it away from the kept
    objects filled in with the backdrop, when the new background is flat (a busy one is left
    as is). Pixels, not whole shapes: a blob the model grew onto a kept object goes too."""
    from scipy import ndimage

    alpha = object_alpha(Image.fromarray(np.clip(plate, 0, 255).round().astype(np.uint8)))
    if alpha is None:
        return plate
    added = (alpha > 0.1) & ~kept
    if not added.any():
        return plate
    holes = ndimage.binary_dilation(added, iterations=reach) & ~kept
    return _fill_holes(plate, holes, alpha, reach)


def paste_back(repainted: Image.Image, original: Image.Image, mask: Image.Image, region: str) -> Image.Image:
    """The edited image: ``repainted`` inside the region, ``original`` outside it, blended
    along the soft edge."""
    repainted = repainted.resize(original.size)
    if region == "background":
        return composite_objects(original, repainted)
    return Image.composite(match_seam_colours(repainted, original, mask), original.convert("RGB"), mask)


def move_objects(image: Image.Image, moves: list[tuple[str, str]]) -> Image.Image | None:
    """``image`` with, for each ``(source, target)``, the object nearest the source anchor
    moved so that it is centred on the target anchor (all cut out first, so two objects can
    swap places), the backdrop filled in where they were; ``None`` when the backdrop is not
    flat or some source has no object."""
    alpha = object_alpha(image)
    if alpha is None:
        return None
    labels, centres = _components(alpha)
    height, width = alpha.shape
    old = np.asarray(image.convert("RGB"), dtype=np.float32)
    pasted, holes = [], []
    reach = _reach((height, width))
    for source, target in moves:
        near = [i for i, centre in enumerate(centres) if nearest_anchor(centre) == source]
        if not near:
            return None  # nothing at the source
        sx, sy = ANCHORS[source]
        index = min(near, key=lambda i: (centres[i][0] - sx) ** 2 + (centres[i][1] - sy) ** 2)
        # The object with its soft outline: its pixels and the partly opaque ones around them
        # (a painted image's edges are a few pixels wide; what is left behind shows as a ghost).
        a, colour, _ = _object_colours(old, alpha, labels, index + 1, reach)
        holes.append(_object_body(labels, index + 1, reach, rim=2))
        dx = round((ANCHORS[target][0] - centres[index][0]) * width)
        dy = round((ANCHORS[target][1] - centres[index][1]) * height)
        pasted.append((_shifted(a, dx, dy), _shifted(colour, dx, dy)))
    out = _fill_holes(old, np.any(holes, axis=0), alpha, reach)
    for a, colour in pasted:
        out = a * colour + (1 - a) * out
    return Image.fromarray(np.clip(out, 0, 255).round().astype(np.uint8))


def recolour_objects(image: Image.Image, region: str, changes: list[tuple[RGB | None, RGB]],
                     others: list[RGB] = ()) -> Image.Image | None:
    """``image`` with objects recoloured, their form, outline and shading kept, nothing else
    touched; ``None`` when the backdrop is not flat or it is not clear which objects to recolour.

    ``changes`` are (old colour or ``None``, new colour). For a side or the centre (one change)
    the objects nearest that anchor take the new colour. For ``"whole"`` or a thing's name
    ("car": no segmenter tells which object that is) the only object does, or, with several,
    each object is matched to the nearest of the old colours and ``others``
    (the colours of the things that keep theirs), and takes its old colour's new one: "make
    them both green", "swap the colours". Ambiguity (a red thing kept beside a red thing
    recoloured, or fewer red things than the edit names) gives ``None``."""
    alpha = object_alpha(image)
    if alpha is None or not changes:
        return None
    labels, centres = _components(alpha)
    old = np.asarray(image.convert("RGB"), dtype=np.float32)
    reach = _reach(alpha.shape)
    objects = {label: _object_colours(old, alpha, labels, label, reach) for label in range(1, len(centres) + 1)}
    if region in ANCHORS or (region != "background" and len(centres) == 1):
        targets = {label: changes[0][1] for label in _objects_at(region, centres)} if len(changes) == 1 else {}
    elif region != "background":
        targets = _match_by_colour({label: main for label, (_, _, main) in objects.items()}, changes, list(others))
    else:
        targets = {}
    if not targets:
        return None
    out = old.copy()
    for label, rgb in targets.items():
        a, colour, main = objects[label]
        # Pixels near the object's main colour move all the way, those far from it (a car's
        # tyres, a face's eyes) not at all.
        distance = np.linalg.norm(colour - main, axis=-1)
        close = np.clip((RECOLOUR_REACH - distance) / (RECOLOUR_REACH - RECOLOUR_SAME), 0, 1)[..., None]
        recoloured = np.clip(colour + close * (np.asarray(rgb, dtype=np.float32) - main), 0, 255)
        out += a * (recoloured - colour)
    return Image.fromarray(np.clip(out, 0, 255).round().astype(np.uint8))


def resize_object(image: Image.Image, region: str, scale: float) -> Image.Image | None:
    """``image`` with the object nearest ``region``'s anchor (for ``"whole"`` or a thing's name:
    the only object) scaled by ``scale`` about its centre, the backdrop filled in where it shrank from; ``None``
    when the backdrop is not flat, there is not exactly one such object, or the scaled object
    would leave the image or touch another object."""
    from scipy import ndimage

    alpha = object_alpha(image)
    if alpha is None:
        return None
    labels, centres = _components(alpha)
    chosen = _objects_at(region, centres)
    if len(chosen) != 1:
        return None
    label = chosen[0]
    old = np.asarray(image.convert("RGB"), dtype=np.float32)
    reach = _reach(alpha.shape)
    a, colour, _ = _object_colours(old, alpha, labels, label, reach)
    height, width = alpha.shape
    cx, cy = centres[label - 1][0] * width, centres[label - 1][1] * height
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    source = [cy + (ys - cy) / scale, cx + (xs - cx) / scale]  # where each output pixel comes from

    def scaled(channel: np.ndarray) -> np.ndarray:
        return ndimage.map_coordinates(channel, source, order=1, mode="constant", cval=0.0)

    stretched = np.clip(scaled(a[..., 0]), 0.0, 1.0)
    new_a = stretched
    if scale > 1:  # the outline was stretched too: make it as narrow as it was
        new_a = np.clip((stretched - 0.5) * scale + 0.5, 0.0, 1.0)
    if max(new_a[0].max(), new_a[-1].max(), new_a[:, 0].max(), new_a[:, -1].max()) > 0.02:
        return None  # it would not fit in the picture
    others = ndimage.binary_dilation((labels != 0) & (labels != label), iterations=2)
    if (others & (new_a > 0.02)).any():
        return None  # it would run into another object
    premultiplied = np.stack([scaled(colour[..., c] * a[..., 0]) for c in range(3)], axis=-1)
    new_colour = premultiplied / np.maximum(stretched, 1e-3)[..., None]
    out = _fill_holes(old, _object_body(labels, label, reach, rim=2), alpha, reach)
    out = new_a[..., None] * new_colour + (1 - new_a[..., None]) * out
    return Image.fromarray(np.clip(out, 0, 255).round().astype(np.uint8))


def _objects_at(region: str, centres: list[tuple[float, float]]) -> list[int]:
    """Labels of the objects a side or the centre names (nearest that anchor), or for
    ``"whole"`` or a thing's name the only object; none for the background."""
    if region in ANCHORS:
        return [i + 1 for i, centre in enumerate(centres) if nearest_anchor(centre) == region]
    return [1] if region != "background" and len(centres) == 1 else []


def _object_colours(rgb: np.ndarray, alpha: np.ndarray, labels: np.ndarray, label: int,
                    reach: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Object ``label``'s opacity (its soft outline included, as a move takes it, but never a
    neighbour's pixels), its own colours unmixed from the backdrop, and its main colour."""
    a = np.where(_object_body(labels, label, reach), alpha, 0.0)[..., None]
    colour = _unmixed(rgb, a)
    own = labels == label
    solid = own & (alpha > 0.9)
    return a, colour, np.median(colour[solid if solid.any() else own], axis=0)


def _object_body(labels: np.ndarray, label: int, reach: int, rim: int = 0) -> np.ndarray:
    """Where object ``label`` and its soft outline may be: its pixels grown by ``reach``, never
    another object's. ``rim=2`` gives what a cut-out of it leaves to fill: two pixels more, the
    faint rim beyond the outline that would otherwise stay behind as a ghost."""
    from scipy import ndimage

    own = labels == label
    return ndimage.binary_dilation(own, iterations=reach + rim) & (own | (labels == 0))


def _match_by_colour(mains: dict[int, np.ndarray], changes: list[tuple[RGB | None, RGB]],
                     others: list[RGB]) -> dict[int, RGB]:
    """Object label -> new colour, each object matched to the nearest named colour; empty when
    that is ambiguous (see ``recolour_objects``)."""
    if any(before is None for before, _ in changes):
        return {}
    named = [before for before, _ in changes] + others
    new_of: dict[RGB, RGB] = {}
    for before, after in changes:
        if new_of.setdefault(before, after) != after or named.count(before) != sum(b == before for b, _ in changes):
            return {}  # one old colour, two new ones; or a thing of that colour kept
    matched = {label: min(named, key=lambda c: float(np.linalg.norm(main - np.asarray(c, dtype=np.float32))))
               for label, main in mains.items()}
    if any(sum(m == before for m in matched.values()) != named.count(before) for before in new_of):
        return {}  # the picture shows another number of things of that colour than the prompt
    return {label: new_of[colour] for label, colour in matched.items() if colour in new_of}


def _unmixed(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The objects' own colours: each pixel with its share of the backdrop taken out by its
    opacity (``alpha``, one channel), so an outline carries no halo of the old backdrop."""
    backdrop = _backdrop(rgb)
    return np.clip(backdrop + (rgb - backdrop) / np.maximum(alpha, 1e-3), 0, 255)


def _fill_holes(rgb: np.ndarray, holes: np.ndarray, alpha: np.ndarray, reach: int) -> np.ndarray:
    """``rgb`` with the ``holes`` filled by the backdrop around them (a local average, so a
    backdrop that is not perfectly even shows no flat patch where an object was)."""
    from scipy import ndimage

    known = ((alpha <= 0.02) & ~holes).astype(np.float32)
    weight = ndimage.gaussian_filter(known, sigma=2 * reach)
    local = np.stack([ndimage.gaussian_filter(rgb[..., c] * known, sigma=2 * reach) for c in range(3)], axis=-1)
    local = np.where(weight[..., None] > 1e-3, local / np.maximum(weight, 1e-3)[..., None], _backdrop(rgb))
    return np.where(holes[..., None], local, rgb)


def _shifted(array: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """``array`` moved by (dx, dy) pixels, zeros where nothing moved in."""
    height, width = array.shape[:2]
    out = np.zeros_like(array)
    src_y, dst_y = slice(max(0, -dy), min(height, height - dy)), slice(max(0, dy), min(height, height + dy))
    src_x, dst_x = slice(max(0, -dx), min(width, width - dx)), slice(max(0, dx), min(width, width + dx))
    out[dst_y, dst_x] = array[src_y, src_x]
    return out
