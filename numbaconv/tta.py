"""Test-time augmentation of a classifier's logits: airbench's levels 0 (none), 1 (mirror) and 2 (mirror and
one-pixel translations); no torch equivalent."""
from .ops.movement import cat

LEVELS = (0, 1, 2)


def check_level(tta, images_shape=None):
    """Refuse a TTA level that is not 0, 1 or 2, or level 2 on images too small to reflect-pad."""
    if isinstance(tta, bool) or tta not in LEVELS:
        raise ValueError(f"tta must be one of {LEVELS}, got {tta!r}")
    if tta == 2 and images_shape is not None and (len(images_shape) != 4 or min(images_shape[2:]) < 2):
        raise ValueError(f"tta=2 translates (N, C, H, W) images with H, W >= 2 by reflection; got images of shape "
                         f"{tuple(images_shape)}")


def _mirrored(images):
    return images[..., ::-1]


def _reflect_pad1(images):
    """One pixel of reflection padding on every side (torch.nn.functional.pad(..., mode='reflect'))."""
    rows = cat([images[..., 1:2, :], images, images[..., -2:-1, :]], dim=-2)
    return cat([rows[..., 1:2], rows, rows[..., -2:-1]], dim=-1)


def tta_logits(model, images, level):
    """``model``'s logits of ``images`` averaged over airbench's test-time augmentations of ``level``.

    Level 1 averages each image with its mirror; level 2 gives that average weight 1/2 and shares the other half
    between the mirror-averages of the image shifted one pixel down-right and one pixel up-left (reflect-padded).
    """
    return plain_and_tta_logits(model, images, level)[1]


def plain_and_tta_logits(model, images, level):
    """(``model(images)``, :func:`tta_logits`) from one set of forward passes: the plain logits are every level's
    first view, so an evaluation with and without augmentation costs no pass more than the augmented one."""
    check_level(level, images.shape)
    plain = model(images)
    if level == 0:
        return plain, plain
    logits = (plain + model(_mirrored(images))) * 0.5
    if level == 1:
        return plain, logits

    def with_mirror(x):
        return (model(x) + model(_mirrored(x))) * 0.5

    padded = _reflect_pad1(images)
    height, width = images.shape[-2:]
    down_right, up_left = padded[..., :height, :width], padded[..., 2:, 2:]
    return plain, logits * 0.5 + (with_mirror(down_right) + with_mirror(up_left)) * 0.25
