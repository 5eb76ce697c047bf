"""A PNG grid of test images with predicted/true labels (needs the optional `plot` extra: matplotlib)."""
import numpy as np

from .atomic import write_atomically


def save_prediction_grid(path, dataset, predictions, count=36, columns=6):
    """Draw the first ``count`` images of ``dataset`` titled 'predicted / true' (red when wrong)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise RuntimeError("--grid needs matplotlib: pip install 'numbaconv[plot]'") from error
    count = min(count, len(predictions))
    rows = -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.6, rows * 1.8))
    for i, axis in enumerate(np.atleast_1d(axes).ravel()):
        axis.axis("off")
        if i >= count:
            continue
        image, label = dataset.image(i), int(dataset.targets[i])
        axis.imshow(image)
        right = predictions[i] == label
        axis.set_title(f"{dataset.classes[predictions[i]]} / {dataset.classes[label]}", fontsize=7,
                       color="black" if right else "red")
    figure.tight_layout()
    write_atomically(path, lambda handle: figure.savefig(handle, format="png", dpi=100))
    plt.close(figure)
