"""`numbaconv visualize` and numbaconv.utils.plot: valid PNGs of the expected sizes from a tiny checkpoint, and the
one-line error without matplotlib."""
import argparse
import struct
import sys

import numpy as np
import pytest

import numbaconv as nc
from numbaconv import models, visualize
from numbaconv.utils import plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """(width, height) from a PNG's signature and IHDR chunk (stdlib only)."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def parse(*argv):
    parser = argparse.ArgumentParser()
    visualize.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["visualize", *argv])


@pytest.fixture
def tiny_run(tmp_path):
    """A tf_same_net checkpoint as `numbaconv train` writes it and an official-size CIFAR-10 test batch (10,000
    records of a label byte and 3072 pixel bytes) whose first images are random, the rest black."""
    folder = tmp_path / "cifar" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    records = np.zeros((10_000, 1 + 3072), np.uint8)
    rng = np.random.default_rng(0)
    records[:4, 0], records[:4, 1:] = rng.integers(0, 10, 4), rng.integers(0, 256, (4, 3072))
    (folder / "test_batch.bin").write_bytes(records.tobytes())
    nc.manual_seed(0)
    checkpoint = tmp_path / "checkpoint.npz"
    nc.save({"model_name": "tf_same_net", "model": models.tf_same_net().state_dict(), "epoch": 1}, checkpoint)
    return checkpoint, tmp_path / "cifar"


def test_visualize_writes_filters_feature_maps_and_input_output_pngs(tiny_run, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    checkpoint, data_dir = tiny_run
    out = tmp_path / "pictures"
    visualize.run(parse(str(checkpoint), "--data-dir", str(data_dir), "--out", str(out), "--images", "2",
                        "--channels", "4", "--layer", "2", "--channel", "63"))
    assert "wrote 5 PNGs" in capsys.readouterr().out
    tile, header = 80, 40  # plot's 0.8-inch tiles and 0.4-inch header at 100 dpi
    expected = {"filters.png": (8 * tile, 4 * tile + header),  # 32 filters, 8 a row
                "conv1_feature_maps.png": (4 * tile, 2 * tile + header),  # 2 images × 4 channels
                "conv2_feature_maps.png": (4 * tile, 2 * tile + header),
                "conv3_feature_maps.png": (4 * tile, 2 * tile + header),
                "input_output.png": (2 * 200, 2 * 200 + header)}  # 2 images × (input, output), 2-inch tiles
    assert {p.name: png_size(p) for p in out.iterdir()} == expected


def test_conv_outputs_are_each_conv_layers_output():
    nc.manual_seed(0)
    model = models.tf_same_net().eval()
    x = nc.randn(2, 3, 32, 32)
    outputs = visualize.conv_outputs(model, x)
    assert [o.shape for o in outputs] == [(2, 32, 32, 32), (2, 64, 16, 16), (2, 128, 8, 8)]
    np.testing.assert_allclose(outputs[0], model[0](x).detach().numpy())
    assert outputs[0].min() < 0  # before the ReLU


@pytest.mark.parametrize("argv, message", [(["--layer", "4"], "--layer 4: the model has 3 conv layers"),
                                           (["--channel", "32"], "--channel 32: conv layer 1 has channels 0-31"),
                                           (["--images", "0"], "--images must be at least 1")])
def test_visualize_refuses_bad_options_naming_them(tiny_run, tmp_path, argv, message):
    checkpoint, data_dir = tiny_run
    with pytest.raises(ValueError, match=message):
        visualize.visualize(parse(str(checkpoint), "--data-dir", str(data_dir), "--out", str(tmp_path), *argv))


def test_visualize_refuses_a_file_that_is_not_a_training_checkpoint(tiny_run, tmp_path):
    _, data_dir = tiny_run
    nc.save({"weights": np.zeros(3)}, tmp_path / "other.npz")
    with pytest.raises(ValueError, match="is not a numbaconv training checkpoint"):
        visualize.visualize(parse(str(tmp_path / "other.npz"), "--data-dir", str(data_dir), "--out", str(tmp_path)))


def test_without_matplotlib_a_one_line_error_names_the_plot_extra(tiny_run, tmp_path, monkeypatch):
    for name in ("matplotlib", "matplotlib.figure"):
        monkeypatch.setitem(sys.modules, name, None)  # import then raises ImportError
    checkpoint, data_dir = tiny_run
    with pytest.raises(ValueError) as error:
        visualize.run(parse(str(checkpoint), "--data-dir", str(data_dir), "--out", str(tmp_path / "out")))
    assert str(error.value) == "visualize needs matplotlib: pip install 'numbaconv[plot]'"
    assert not (tmp_path / "out").exists()
    with pytest.raises(ImportError, match=r"needs matplotlib, from the plot extra: pip install 'numbaconv\[plot\]'"):
        plot.plot_filters(np.zeros((4, 3, 3, 3)))


def test_plot_functions_refuse_wrong_shapes_naming_the_function():
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="plot_filters: needs a"):
        plot.plot_filters(np.zeros((4, 2, 3, 3)))
    with pytest.raises(ValueError, match="plot_feature_maps: needs"):
        plot.plot_feature_maps(np.zeros((4, 3, 3)))
    with pytest.raises(ValueError, match="plot_input_output: needs"):
        plot.plot_input_output(np.zeros((2, 8, 8, 3)), np.zeros((3, 8, 8)))
