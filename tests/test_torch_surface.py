"""The torch-shaped surface: device, accelerator, cudnn flags, dtype aliases, Size, __format__, conversions, lazy
submodules and the missing-name error, Generator, and save/load with file objects and map_location."""
import io
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

import numbaconv as nc
from numbaconv import nn


def _torch():
    return pytest.importorskip("torch")


# ---- device ------------------------------------------------------------------------------------------------


def test_device_matches_torch_device():
    torch = _torch()
    assert nc.device(0) == "cuda:0"  # torch.device(0) needs a GPU present
    for spec in ("cpu", "cuda", "cuda:0", ("cuda", 0)):
        args = spec if isinstance(spec, tuple) else (spec,)
        ours, theirs = nc.device(*args), torch.device(*args)
        assert (str(ours), repr(ours), ours.type, ours.index) == (str(theirs), repr(theirs), theirs.type,
                                                                  theirs.index)
    assert nc.device("cuda") != nc.device("cuda:0") and nc.device("cpu") == nc.device("cpu")
    assert nc.device(nc.device("cuda:0")) == "cuda:0"
    assert pickle.loads(pickle.dumps(nc.device("cuda:0"))).index == 0
    assert len({nc.device("cpu"), nc.device("cpu")}) == 1


@pytest.mark.parametrize("bad, error", [("tpu", "unknown device type 'tpu'"), ("cuda:1", "index must be 0"),
                                        ("cuda:x", "invalid device string"), (1.5, "expected a string")])
def test_device_refuses_what_numbaconv_cannot_run(bad, error):
    with pytest.raises((ValueError, TypeError), match=error):
        nc.device(bad)


def test_device_objects_go_wherever_device_strings_do():
    cpu = nc.device("cuda" if nc.cuda.is_available() else "cpu")
    x = nc.zeros(2, 3, device=cpu)
    assert x.device == cpu and isinstance(x.device, nc.device) and repr(nc.zeros(1).device) == "device(type='cpu')"
    assert x.to(cpu).device == cpu and nc.tensor([1.0], device=cpu).device == cpu
    model = nn.Linear(3, 2).to(cpu, non_blocking=True)
    assert model.weight.device == cpu
    model.to(nc.zeros(1, dtype=nc.float64))
    assert model.weight.dtype == np.float64
    assert not x.is_cuda or nc.cuda.is_available()


def test_accelerator_and_backend_flags():
    assert nc.accelerator.is_available() == nc.cuda.is_available()
    current = nc.accelerator.current_accelerator()
    assert (current is None) == (not nc.cuda.is_available())
    assert nc.accelerator.device_count() == nc.cuda.device_count()
    nc.backends.cudnn.benchmark = True
    nc.backends.cudnn.deterministic = True
    assert nc.backends.cudnn.is_available() is False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nc.use_deterministic_algorithms(True)
    assert nc.are_deterministic_algorithms_enabled()
    assert any("atomically" in str(w.message) for w in caught) == nc.cuda.is_available()
    nc.use_deterministic_algorithms(False)
    with pytest.raises(TypeError, match="mode must be a bool"):
        nc.use_deterministic_algorithms("yes")


# ---- dtypes, Size, format, conversions -----------------------------------------------------------------------


def test_dtype_aliases_are_torchs():
    torch = _torch()
    for name in ("long", "float", "double", "int", "bool", "short", "float32", "float64", "int64", "int32",
                 "uint8", "int8", "int16"):
        ours, theirs = getattr(nc, name), getattr(torch, name)
        assert str(ours) == str(theirs).removeprefix("torch."), name
    for name in ("half", "float16", "bfloat16"):
        with pytest.raises(AttributeError, match="no float16"):
            getattr(nc, name)
    with pytest.raises(TypeError, match="no float16"):
        nc.zeros(2).half()


def test_size_prints_like_torch():
    torch = _torch()
    for shape in [(), (3,), (2, 3), (1, 0, 4)]:
        ours, theirs = nc.zeros(shape).shape, torch.zeros(shape).shape
        assert (repr(ours), str(ours)) == (repr(theirs), str(theirs))
        assert ours == theirs == tuple(shape) and ours.numel() == theirs.numel()
    x = nc.zeros(2, 3, 4)
    assert x.size() == x.shape and x.size(1) == 3 and isinstance(x.size(1), int)
    assert repr(x.shape[1:]) == "torch.Size([3, 4])" and x.shape[0] == 2
    assert f"{x.shape}" == "(2, 3, 4)"  # numbaconv's own messages quote shapes as tuples
    assert pickle.loads(pickle.dumps(x.shape)) == (2, 3, 4)


def test_format_of_tensors_matches_torch():
    torch = _torch()
    for value in (1.23456, -2.0, 7):
        ours, theirs = nc.tensor(value), torch.tensor(value)
        for spec in ("", "6.2f", ".3e", ">10"):
            if isinstance(value, int) and "f" not in spec and "e" not in spec:
                assert f"{ours:{spec}}" == f"{theirs:{spec}}"
            elif not isinstance(value, int):
                assert f"{ours:{spec}}" == f"{theirs:{spec}}", spec
    with pytest.raises(TypeError) as theirs:
        f"{torch.ones(2):.2f}"
    with pytest.raises(TypeError) as ours:
        f"{nc.ones(2):.2f}"
    assert str(ours.value) == str(theirs.value)
    assert f"{nc.ones(2)}" == str(nc.ones(2))


def test_conversions_match_torch():
    torch = _torch()
    values = np.array([[1.7, -2.2], [0.0, 3.5]], np.float32)
    ours, theirs = nc.tensor(values), torch.tensor(values)
    for method in ("int", "long", "float", "double", "bool"):
        a, b = getattr(ours, method)(), getattr(theirs, method)()
        assert str(a.dtype) == str(b.dtype).removeprefix("torch."), method
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert ours.type() == theirs.type() == "torch.FloatTensor"
    assert ours.long().type() == theirs.long().type()
    assert ours.type("torch.LongTensor").dtype == np.int64 and ours.type(nc.float64).dtype == np.float64
    assert ours.type_as(nc.zeros(1, dtype=nc.int32)).dtype == np.int32
    assert ours.is_floating_point() and not ours.long().is_floating_point() and ours.element_size() == 4
    with pytest.raises(ValueError, match="unknown type name"):
        ours.type("torch.ComplexTensor")


def test_creation_extras_match_torch():
    torch = _torch()
    np.testing.assert_allclose(nc.linspace(0, 1, 5).numpy(), torch.linspace(0, 1, 5).numpy())
    np.testing.assert_array_equal(nc.eye(3, 2).numpy(), torch.eye(3, 2).numpy())
    assert sorted(nc.randperm(6).numpy().tolist()) == list(range(6)) and nc.randperm(6).dtype == np.int64
    r = nc.randint(2, 5, (100,))
    assert r.dtype == np.int64 and r.shape == (100,) and set(r.numpy().tolist()) <= {2, 3, 4}
    assert nc.randint(3, (4, 2)).shape == (4, 2)
    base = np.arange(3.0)
    shared = nc.as_tensor(base)
    assert np.shares_memory(shared.numpy(), base) and nc.as_tensor(shared) is shared
    assert nc.as_tensor([1, 2]).dtype == np.int64 and nc.full_like(shared, 7).numpy().tolist() == [7.0] * 3
    assert nc.rand_like(shared).shape == nc.randn_like(shared).shape == nc.empty_like(shared).shape == (3,)
    assert nc.is_tensor(shared) and not nc.is_tensor(base)


def test_generator_reproduces_draws():
    g = nc.Generator().manual_seed(3)
    first = nc.rand(4, generator=g).numpy()
    np.testing.assert_array_equal(first, nc.rand(4, generator=nc.Generator().manual_seed(3)).numpy())
    assert g.initial_seed() == 3 and nc.manual_seed(8).initial_seed() == nc.initial_seed() == 8
    state = g.get_state()
    a = nc.randn(3, generator=g).numpy()
    g.set_state(state)
    np.testing.assert_array_equal(a, nc.randn(3, generator=g).numpy())
    with pytest.raises(ValueError, match="seed must be an integer"):
        nc.manual_seed(-1)


# ---- the namespace -------------------------------------------------------------------------------------------


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_submodules_load_lazily_and_import_stays_light():
    result = _run("import sys, numbaconv as nc\n"
                  "heavy = [m for m in ('numba', 'numbaconv.nn', 'numbaconv.optim', 'numbaconv.data', "
                  "'numbaconv.utils', 'numbaconv.distributed') if m in sys.modules]\n"
                  "assert not heavy, heavy\n"
                  "assert nc.nn.Linear and nc.optim.SGD and nc.utils.data.DataLoader and nc.data.CIFAR10\n"
                  "assert 'numbaconv.nn' in sys.modules and 'nn' in dir(nc)\n"
                  "import numbaconv.utils.data as tud; assert tud.TensorDataset")
    assert result.returncode == 0, result.stderr


def test_missing_torch_names_say_so_and_name_the_closest_feature():
    with pytest.raises(AttributeError, match=r"numbaconv has no 'nll_loss'.*nn\.functional\.nll_loss"):
        nc.nll_loss  # noqa: B018
    with pytest.raises(AttributeError, match=r"closest numbaconv feature: numbaconv\.empty_like"):
        nc.emptylike  # noqa: B018
    with pytest.raises(AttributeError, match="see the README"):
        nc.quantum_fourier  # noqa: B018
    assert not hasattr(nc, "__wrapped__")
    result = _run("import numbaconv as torch\ntorch.nll_loss")
    assert "numbaconv has no 'nll_loss'" in result.stderr and "Did you mean" not in result.stderr


# ---- save / load ---------------------------------------------------------------------------------------------


def test_save_and_load_with_file_objects_and_map_location(tmp_path):
    state = {"w": nc.randn(2, 3, requires_grad=True), "b": np.arange(3), "step": 4}
    buffer = io.BytesIO()
    nc.save(state, buffer)
    buffer.seek(0)
    loaded = nc.load(buffer, map_location="cpu", weights_only=True)
    np.testing.assert_array_equal(loaded["w"].detach().numpy(), state["w"].detach().numpy())
    assert loaded["w"].requires_grad and loaded["step"] == 4 and isinstance(loaded["b"], np.ndarray)
    with open(tmp_path / "ckpt.npz", "wb") as handle:
        nc.save(state, handle)
    with open(tmp_path / "ckpt.npz", "rb") as handle:
        for where in (None, nc.device("cpu"), {"cpu": "cpu"}, lambda storage, loc: storage):
            handle.seek(0)
            again = nc.load(handle, map_location=where)
            assert again["w"].device == "cpu" and again["w"].requires_grad
    assert nc.load(tmp_path / "ckpt.npz", weights_only=False)["step"] == 4
    with pytest.raises(ValueError, match="unknown device"):
        nc.load(tmp_path / "ckpt.npz", map_location="tpu")
    with pytest.raises(ValueError, match="not a numbaconv checkpoint"):
        nc.load(io.BytesIO(b"not a zip file at all"))


def test_torch_style_checkpoint_round_trip_through_a_model(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    nc.save(model.state_dict(), tmp_path / "model.npz")
    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    other.load_state_dict(nc.load(tmp_path / "model.npz", map_location=nc.device("cpu"), weights_only=True))
    x = nc.randn(5, 3)
    np.testing.assert_array_equal(model(x).detach().numpy(), other(x).detach().numpy())
    other.load_state_dict({k: nc.tensor(v) for k, v in model.state_dict().items()})  # Tensors load too
