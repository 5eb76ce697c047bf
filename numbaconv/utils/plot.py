"""Pictures of what a CNN's convolutions do, for notebooks and `numbaconv visualize` (needs the `plot` extra).

``make_grid`` tiles images into one array (torchvision.utils.make_grid); each ``plot_*`` function takes arrays
(numpy or Tensor) and returns a matplotlib ``Figure`` (not pyplot's global state, so nothing changes a notebook's
backend); ``save_figure`` writes one as a PNG atomically. Cf. Keras' "visualizing what convnets learn".

Sizes are fixed: a tile is ``tile`` inches (at ``DPI`` pixels per inch) and a figure is ``columns * tile`` wide and
``rows * tile + HEADER`` high, so a picture's PNG size follows from its grid's shape.
"""
import numpy as np

from ..atomic import write_atomically

DPI = 100
HEADER = 0.4
EXTRA = "pip install 'numbaconv[plot]'"


def require():
    """matplotlib's Figure class, or an ImportError whose one line names the extra to install."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(f"numbaconv.utils.plot needs matplotlib, from the plot extra: {EXTRA}") from error
    return Figure


def _array(values):
    return np.asarray(values.detach().numpy() if hasattr(values, "detach") else values, dtype=np.float64)


def _unit(values):
    """``values`` scaled to [0, 1] (a constant array becomes 0.5)."""
    low, high = values.min(), values.max()
    return np.full_like(values, 0.5) if high == low else (values - low) / (high - low)


def make_grid(tiles, columns, padding=1, fill=1.0):
    """Equal-sized tiles (N, h, w, 3) as one (rows·(h+padding)-padding, columns·(w+padding)-padding, 3) image, row by
    row, ``fill`` between and after them (torchvision.utils.make_grid on HWC arrays)."""
    tiles = np.asarray(tiles)
    count, height, width, channels = tiles.shape
    rows = -(-count // columns)
    grid = np.full((rows * (height + padding) - padding, columns * (width + padding) - padding, channels), fill)
    for i, tile in enumerate(tiles):
        top, left = (i // columns) * (height + padding), (i % columns) * (width + padding)
        grid[top:top + height, left:left + width] = tile
    return grid


def _figure(rows, columns, tile, title):
    """An empty Figure for a rows × columns grid of ``tile``-inch tiles below a header band holding ``title``."""
    height = rows * tile + HEADER
    figure = require()(figsize=(columns * tile, height), dpi=DPI)
    figure.suptitle(title, fontsize=9, y=1 - 0.15 * HEADER / height, va="top")
    return figure, 1 - HEADER / height


def _show(figure, image, left, width, top, **kwargs):
    axis = figure.add_axes((left, 0, width, top))
    axis.imshow(image, aspect="auto", interpolation="nearest", **kwargs)
    axis.set_axis_off()


def _colour(maps, colormap):
    """Each (h, w) map of ``maps`` scaled to its own [0, 1] and coloured by the named colormap, as RGB tiles."""
    from matplotlib import colormaps

    return colormaps[colormap](np.stack([_unit(m) for m in maps]))[..., :3]


def plot_filters(weight, columns=8, tile=0.8, title="first conv layer's filters"):
    """The filters of a conv weight (C_out, C_in, kh, kw) with C_in 3 (RGB tiles) or 1 (grey), each scaled to its
    own [min, max]; ``columns`` tiles a row."""
    weight = _array(weight)
    if weight.ndim != 4 or weight.shape[1] not in (1, 3):
        raise ValueError(f"plot_filters: needs a (C_out, 3 or 1, kh, kw) weight, got shape {weight.shape}")
    count, columns = len(weight), min(columns, len(weight))
    figure, top = _figure(-(-count // columns), columns, tile,
                          f"{title} ({count}, {weight.shape[2]}×{weight.shape[3]})")
    tiles = np.stack([_unit(kernel) for kernel in weight]).transpose(0, 2, 3, 1)
    _show(figure, make_grid(np.broadcast_to(tiles, tiles.shape[:3] + (3,)), columns), 0, 1, top)
    return figure


def plot_feature_maps(maps, channels=16, tile=0.8, title="feature maps", colormap="viridis"):
    """Feature maps (N, C, H, W): one row per image, its first ``channels`` channels, each on its own colour scale."""
    maps = _array(maps)
    if maps.ndim != 4:
        raise ValueError(f"plot_feature_maps: needs (N, C, H, W) maps, got shape {maps.shape}")
    shown = min(channels, maps.shape[1])
    figure, top = _figure(len(maps), shown, tile, f"{title} (channels 0-{shown - 1} of {maps.shape[1]}, "
                                                   f"{maps.shape[2]}×{maps.shape[3]})")
    _show(figure, make_grid(_colour(maps[:, :shown].reshape(-1, *maps.shape[2:]), colormap), shown), 0, 1, top)
    return figure


def plot_input_output(images, outputs, tile=2.0, title="input image / output image"):
    """Each input image ((N, H, W, 3) uint8, or floats in [0, 1]) beside an output channel (N, H', W') in grey: the
    picture of what one convolution does to an image."""
    images, outputs = np.asarray(images), _array(outputs)
    if images.ndim != 4 or images.shape[3] != 3 or outputs.ndim != 3 or len(outputs) != len(images):
        raise ValueError(f"plot_input_output: needs (N, H, W, 3) images and (N, H', W') outputs, got shapes "
                         f"{images.shape} and {outputs.shape}")
    figure, top = _figure(len(images), 2, tile, title)
    _show(figure, make_grid(images / 255.0 if images.dtype == np.uint8 else images, 1), 0, 0.5, top)
    _show(figure, make_grid(_colour(outputs, "gray"), 1), 0.5, 0.5, top)
    return figure


def save_figure(figure, path):
    """Write ``figure`` to ``path`` as a PNG at DPI, atomically (numbaconv.atomic); returns ``path``."""
    write_atomically(path, lambda handle: figure.savefig(handle, format="png", dpi=DPI))
    return path
