"""numbaconv.utils.data against torch.utils.data: collation, samplers, datasets, DataLoader options and workers."""
import collections
import gc
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numbaconv as nc
from numbaconv.data import transforms
from numbaconv.utils import data

Point = collections.namedtuple("Point", "x y")


def _torch():
    return pytest.importorskip("torch")


def as_numpy(value):
    """Nested batches with every Tensor (numbaconv or torch) as a numpy array, containers kept."""
    if hasattr(value, "detach") or isinstance(value, nc.Tensor):
        return np.asarray(value.detach().numpy() if hasattr(value, "detach") else value.numpy())
    if isinstance(value, dict):
        return {k: as_numpy(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(as_numpy(v) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(as_numpy(v) for v in value)
    return value


def assert_same_batch(ours, theirs):
    ours, theirs = as_numpy(ours), as_numpy(theirs)
    assert type(ours) is type(theirs), (type(ours), type(theirs))
    if isinstance(ours, np.ndarray):
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, (ours.dtype, ours.shape, theirs.dtype,
                                                                           theirs.shape)
        np.testing.assert_array_equal(ours, theirs)
    elif isinstance(ours, dict):
        assert list(ours) == list(theirs)
        for k in ours:
            assert_same_batch(ours[k], theirs[k])
    elif isinstance(ours, (list, tuple)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            assert_same_batch(a, b)
    else:
        assert ours == theirs


# ---- default_collate ---------------------------------------------------------------------------------------


def _samples(rng):
    """Sample lists of the kinds torch programs' datasets return, as (numbaconv samples, torch samples)."""
    torch = _torch()
    chw = rng.integers(0, 256, (4, 3, 5, 6), dtype=np.uint8)
    gray = rng.integers(0, 256, (4, 7, 5), dtype=np.uint8)
    feats = rng.standard_normal((4, 3))
    cases = {
        "uint8 CHW arrays stay uint8 CHW": [a for a in chw],
        "grayscale HW arrays stay HW": [a for a in gray],
        "float64 features stay float64": [a for a in feats],
        "python floats become float64": [float(v) for v in feats[:, 0]],
        "python ints become int64": [1, 5, 2, 9],
        "bools become bool": [True, False, True, True],
        "numpy scalars keep their dtype": [np.float32(v) for v in feats[:, 1]],
        "int64 arrays stay int64": [np.arange(3) + i for i in range(4)],
        "(image, float target) tuples become a list": [(chw[i], float(feats[i, 2])) for i in range(4)],
        "dicts collate per key": [{"image": gray[i], "label": i, "name": f"n{i}"} for i in range(4)],
        "namedtuples keep their type": [Point(feats[i], i) for i in range(4)],
        "lists of fields": [[chw[i], i] for i in range(4)],
        "strings stay a list": ["a", "b", "c", "d"],
    }
    tensor_cases = {"tensors are stacked with their dtype": ([nc.tensor(a) for a in chw[:, 0]],
                                                             [torch.tensor(a) for a in chw[:, 0]]),
                    "(float tensor, int64 tensor) pairs": ([(nc.tensor(feats[i]), nc.tensor(i)) for i in range(4)],
                                                           [(torch.tensor(feats[i]), torch.tensor(i))
                                                            for i in range(4)])}
    return cases, tensor_cases


def test_default_collate_matches_torch_for_every_sample_kind():
    torch = _torch()
    from torch.utils.data import default_collate as torch_collate

    cases, tensor_cases = _samples(np.random.default_rng(0))
    for name, samples in cases.items():
        try:
            assert_same_batch(data.default_collate(samples), torch_collate(samples))
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None
    for name, (ours, theirs) in tensor_cases.items():
        try:
            assert_same_batch(data.default_collate(ours), torch_collate(theirs))
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None
    assert torch.is_tensor(torch_collate([1]))


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3), n=st.integers(1, 4),
       dtype=st.sampled_from([np.uint8, np.int32, np.int64, np.float32, np.float64, np.bool_]))
def test_default_collate_stacks_arrays_as_they_are(shape, n, dtype):
    rng = np.random.default_rng(len(shape) * 10 + n)
    arrays = [(rng.standard_normal(shape) * 50).astype(dtype) for _ in range(n)]
    batch = data.default_collate(arrays)
    assert batch.dtype == np.dtype(dtype) and batch.shape == (n, *shape)
    np.testing.assert_array_equal(batch.numpy(), np.stack(arrays))


def test_default_collate_errors_match_torch():
    _torch()
    from torch.utils.data import default_collate as torch_collate

    for samples in ([object(), object()], [np.array(["a"]), np.array(["b"])], [[1, 2], [3]]):
        with pytest.raises((TypeError, RuntimeError)) as theirs:
            torch_collate(samples)
        with pytest.raises(type(theirs.value)) as ours:
            data.default_collate(samples)
        if not isinstance(samples[0], np.ndarray):
            assert str(ours.value) == str(theirs.value)
    with pytest.raises(RuntimeError, match="equal size"):
        data.default_collate([np.zeros((2, 3)), np.zeros((3, 2))])


def test_default_convert_for_unbatched_loading():
    converted = data.default_convert({"a": np.arange(3), "b": (np.zeros(2), "s"), "c": 1.5})
    assert isinstance(converted["a"], nc.Tensor) and converted["a"].dtype == np.int64
    assert isinstance(converted["b"], list) and isinstance(converted["b"][0], nc.Tensor) and converted["b"][1] == "s"
    assert converted["c"] == 1.5


# ---- samplers ----------------------------------------------------------------------------------------------


def test_samplers_shapes_and_errors_match_torch():
    torch = _torch()
    tud = torch.utils.data
    assert list(data.SequentialSampler(range(5))) == list(tud.SequentialSampler(range(5)))
    for drop_last in (False, True):
        ours = list(data.BatchSampler(data.SequentialSampler(range(10)), 3, drop_last))
        assert ours == list(tud.BatchSampler(tud.SequentialSampler(range(10)), 3, drop_last))
        assert len(data.BatchSampler(range(10), 3, drop_last)) == len(ours)
    nc.manual_seed(0)
    perm = list(data.RandomSampler(range(7)))
    assert sorted(perm) == list(range(7))
    assert len(list(data.RandomSampler(range(7), num_samples=17))) == 17
    assert sorted(list(data.RandomSampler(range(7), num_samples=14))) == sorted(list(range(7)) * 2)
    drawn = list(data.RandomSampler(range(3), replacement=True, num_samples=50))
    assert len(drawn) == 50 and set(drawn) <= {0, 1, 2}
    assert sorted(data.SubsetRandomSampler([4, 9, 2])) == [2, 4, 9]
    weighted = list(data.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200))
    assert set(weighted) == {1, 3}
    assert sorted(data.WeightedRandomSampler([1, 1, 1], 3, replacement=False)) == [0, 1, 2]
    bad = [(lambda m: m.BatchSampler(range(3), 0, False)), (lambda m: m.BatchSampler(range(3), 2, 1)),
           (lambda m: m.RandomSampler(range(3), replacement=1)), (lambda m: m.RandomSampler(range(3), num_samples=0)),
           (lambda m: m.WeightedRandomSampler([1.0], 0)), (lambda m: m.WeightedRandomSampler([[1.0]], 2))]
    for make in bad:
        with pytest.raises((ValueError, TypeError)) as theirs:
            make(tud)
        with pytest.raises(type(theirs.value)) as ours:
            make(data)
        assert str(ours.value) == str(theirs.value)


def test_random_sampler_follows_manual_seed_and_generator():
    orders = []
    for _ in range(2):
        nc.manual_seed(11)
        sampler = data.RandomSampler(range(20))
        orders.append((list(sampler), list(sampler)))
    assert orders[0] == orders[1] and orders[0][0] != orders[0][1]
    first = list(data.RandomSampler(range(20), generator=nc.Generator().manual_seed(3)))
    nc.manual_seed(99)  # the default generator does not matter once a generator is given
    assert first == list(data.RandomSampler(range(20), generator=nc.Generator().manual_seed(3)))


# ---- datasets ----------------------------------------------------------------------------------------------


def test_tensor_concat_and_subset_datasets_match_torch():
    torch = _torch()
    tud = torch.utils.data
    x = np.arange(24, dtype=np.float32).reshape(6, 4)
    y = np.arange(6)
    ours = data.TensorDataset(nc.tensor(x), nc.tensor(y))
    theirs = tud.TensorDataset(torch.tensor(x), torch.tensor(y))
    assert len(ours) == len(theirs) == 6
    for i in (0, 5, -1):
        assert_same_batch(list(ours[i]), list(theirs[i]))
    cat, tcat = data.ConcatDataset([ours, ours]), tud.ConcatDataset([theirs, theirs])
    for i in (0, 6, 11, -1, -12):
        assert_same_batch(list(cat[i]), list(tcat[i]))
    assert len(ours + ours) == 12 and isinstance(ours + ours, data.ConcatDataset)
    sub = data.Subset(ours, [4, 1])
    assert_same_batch(list(sub[1]), list(tud.Subset(theirs, [4, 1])[1]))
    with pytest.raises(ValueError, match="Size mismatch"):
        data.TensorDataset(nc.zeros(3), nc.zeros(4))
    with pytest.raises(ValueError) as error:
        cat[-13]
    assert str(error.value) == "absolute value of index should not exceed dataset length"


@pytest.mark.parametrize("lengths", [[3, 7], [0.25, 0.5, 0.25], [0.3, 0.3, 0.4], [10]])
def test_random_split_sizes_match_torch_and_cover_the_dataset(lengths):
    torch = _torch()
    parts = data.random_split(range(10), lengths, generator=nc.Generator().manual_seed(1))
    theirs = torch.utils.data.random_split(range(10), lengths, generator=torch.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [len(p) for p in theirs]
    assert sorted(i for p in parts for i in p) == list(range(10))
    again = data.random_split(range(10), lengths, generator=nc.Generator().manual_seed(1))
    assert [list(p) for p in parts] == [list(p) for p in again]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        data.random_split(range(10), [3, 3])


def test_array_dataset_float_targets_are_kept_on_both_paths():
    images = np.random.default_rng(0).integers(0, 256, (10, 4, 4, 3), dtype=np.uint8)
    targets = np.linspace(0, 1, 10).astype(np.float32)
    dataset = nc.data.ArrayDataset(images, targets)
    fast = list(data.DataLoader(dataset, batch_size=4))
    slow = list(data.DataLoader(data.Subset(_ItemsOnly(dataset), range(10)), batch_size=4))
    for a, b in zip(fast, slow, strict=True):
        assert_same_batch(a, b)
    assert fast[0][1].dtype == np.float32
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in fast]), targets)


class _ItemsOnly(data.Dataset):
    """A dataset without a batch fast path, item by item."""

    def __init__(self, base):
        self.base = base

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        return self.base[i]


# ---- DataLoader ----------------------------------------------------------------------------------------------


class CHWImages(data.Dataset):
    """A custom Dataset as tutorials write them: uint8 CHW image, float regression target, int label."""

    def __init__(self, n=13, seed=0):
        rng = np.random.default_rng(seed)
        self.images = rng.integers(0, 256, (n, 3, 5, 4), dtype=np.uint8)
        self.values = rng.standard_normal(n)
        self.transform = None

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        image = self.images[i] if self.transform is None else self.transform(self.images[i])
        return image, float(self.values[i]), i


@pytest.mark.parametrize("num_workers", [0, 2])
def test_loader_batches_match_torch(num_workers):
    torch = _torch()
    dataset = CHWImages()
    for kwargs in ({"batch_size": 4}, {"batch_size": 4, "drop_last": True}, {"batch_size": None},
                   {"batch_sampler": [[3, 1], [0, 2, 5]]}, {"sampler": [5, 0, 7], "batch_size": 2}):
        ours = list(data.DataLoader(dataset, num_workers=num_workers, **kwargs))
        theirs = list(torch.utils.data.DataLoader(dataset, **kwargs))
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            assert_same_batch(a, b)
        if "batch_sampler" not in kwargs and "sampler" not in kwargs:
            assert len(data.DataLoader(dataset, **kwargs)) == len(theirs)


def test_loader_tensor_dataset_keeps_dtypes():
    x = nc.tensor(np.arange(12).reshape(6, 2))  # int64 inputs stay int64
    y = nc.tensor(np.linspace(0, 1, 6))  # float64 targets stay float64
    batches = list(data.DataLoader(data.TensorDataset(x, y), batch_size=4))
    assert batches[0][0].dtype == np.int64 and batches[0][1].dtype == np.float64
    np.testing.assert_array_equal(batches[1][0].numpy(), np.arange(8, 12).reshape(2, 2))


def test_loader_shuffle_follows_manual_seed_and_generator():
    dataset = data.TensorDataset(nc.arange(30))

    def order(loader):
        return np.concatenate([b[0].numpy() for b in loader])

    nc.manual_seed(5)
    loader = data.DataLoader(dataset, batch_size=7, shuffle=True)
    first, second = order(loader), order(loader)
    nc.manual_seed(5)
    assert np.array_equal(order(loader), first) and not np.array_equal(first, second)
    assert sorted(first) == list(range(30))
    seeded = [order(data.DataLoader(dataset, batch_size=7, shuffle=True, generator=nc.Generator().manual_seed(2)))
              for _ in range(2)]
    np.testing.assert_array_equal(*seeded)


def test_loader_refuses_bad_combinations_with_torchs_messages():
    torch = _torch()
    dataset = CHWImages()
    stream = Stream(8)
    sampler = data.SequentialSampler(dataset)
    bad = [dict(sampler=sampler, shuffle=True), dict(batch_sampler=[[0]], batch_size=2),
           dict(batch_sampler=[[0]], drop_last=True), dict(batch_size=None, drop_last=True),
           dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(persistent_workers=True),
           dict(batch_size=0), dict(multiprocessing_context="spawn")]
    for kwargs in bad:
        if "sampler" in kwargs:
            kwargs_torch = dict(kwargs, sampler=torch.utils.data.SequentialSampler(dataset))
        else:
            kwargs_torch = kwargs
        with pytest.raises(ValueError) as theirs:
            torch.utils.data.DataLoader(dataset, **kwargs_torch)
        with pytest.raises(ValueError) as ours:
            data.DataLoader(dataset, **kwargs)
        assert str(ours.value) == str(theirs.value), kwargs
    with pytest.raises(ValueError, match="expected unspecified shuffle option, but got shuffle=True"):
        data.DataLoader(stream, shuffle=True)


class Stream(data.IterableDataset):
    """The torch docs' pattern: each worker reads its own share of range(n), found through get_worker_info()."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = data.get_worker_info()
        if info is None:
            return iter(range(self.n))
        share = -(-self.n // info.num_workers)
        return iter(range(info.id * share, min(self.n, (info.id + 1) * share)))


@pytest.mark.parametrize("num_workers", [0, 1, 2])
def test_iterable_dataset_sharded_by_worker_matches_torch(num_workers):
    torch = _torch()

    class TorchStream(torch.utils.data.IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            info = torch.utils.data.get_worker_info()
            if info is None:
                return iter(range(self.n))
            share = -(-self.n // info.num_workers)
            return iter(range(info.id * share, min(self.n, (info.id + 1) * share)))

    ours = [b.numpy().tolist() for b in data.DataLoader(Stream(11), batch_size=2, num_workers=num_workers)]
    theirs = [b.tolist() for b in torch.utils.data.DataLoader(TorchStream(11), batch_size=2, num_workers=num_workers)]
    assert ours == theirs
    with pytest.raises(TypeError):  # no __len__ on the dataset: none on the loader either, as in torch
        len(data.DataLoader(Stream(11), batch_size=2))


def test_workers_run_in_parallel_and_know_who_they_are():
    barrier = threading.Barrier(2, timeout=10)
    seen = []

    class Meeting(data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            barrier.wait()  # only returns when two workers are inside __getitem__ at once
            return data.get_worker_info().id

    ids = [b.numpy().tolist() for b in data.DataLoader(Meeting(), batch_size=1, num_workers=2,
                                                        worker_init_fn=seen.append)]
    assert ids == [[0], [1], [0], [1]] and sorted(seen) == [0, 1]
    assert data.get_worker_info() is None


def test_worker_errors_reach_the_loop_and_threads_stop():
    class Broken(CHWImages):
        def __getitem__(self, i):
            if i == 5:
                raise KeyError("bad record 5")
            return super().__getitem__(i)

    with pytest.raises(KeyError, match="bad record 5") as error:
        list(data.DataLoader(Broken(), batch_size=2, num_workers=2))
    assert any("worker" in note for note in error.value.__notes__)
    gc.collect()
    assert _loader_threads() == []
    iterator = iter(data.DataLoader(CHWImages(40), batch_size=1, num_workers=2))
    next(iterator)
    del iterator
    gc.collect()
    assert _loader_threads() == []


def _loader_threads():
    return [t for t in threading.enumerate() if t.name.startswith("numbaconv-loader")]


def test_persistent_workers_survive_epochs():
    loader = data.DataLoader(CHWImages(), batch_size=3, num_workers=2, persistent_workers=True)
    list(loader)
    threads = set(_loader_threads())
    assert len(threads) == 2
    list(loader)
    next(iter(loader))
    assert len(list(loader)) == len(loader)  # an abandoned epoch does not leak into the next one
    assert set(_loader_threads()) == threads
    del loader
    gc.collect()
    assert _loader_threads() == []


def test_random_transforms_in_workers_are_reproducible():
    dataset = CHWImages(12)
    dataset.transform = lambda image: image + np.uint8(nc.random.generator().integers(0, 5))
    runs = []
    for _ in range(2):
        nc.manual_seed(1)
        runs.append([b[0].numpy() for b in data.DataLoader(dataset, batch_size=3, num_workers=2)])
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_timeout_and_pin_memory():
    class Slow(CHWImages):
        def __getitem__(self, i):
            threading.Event().wait(0.5)
            return super().__getitem__(i)

    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.05 seconds"):
        list(data.DataLoader(Slow(), batch_size=2, num_workers=1, timeout=0.05))
    batches = list(data.DataLoader(CHWImages(), batch_size=4, pin_memory=True))
    assert batches[0][0].dtype == np.uint8  # pin_memory changes nothing on numbaconv


def _finishes(run, *args, seconds=5.0):
    """What ``run(*args)`` raised (None if nothing); a test failure, never a hang, if it runs past ``seconds``."""
    outcome = []

    def watched():
        try:
            run(*args)
        except BaseException as error:
            outcome.append(error)
        else:
            outcome.append(None)

    thread = threading.Thread(target=watched, name="watchdog", daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"DataLoader still waiting after {seconds} s"
    return outcome[0]


def _join_loader_threads():
    """Wait for the workers of loaders now gone, including any a loader gave up on; later tests start with none."""
    gc.collect()
    for thread in _loader_threads():
        thread.join(5)
    assert _loader_threads() == []


class FailsAtZero(data.Dataset):
    """Eight float samples; reading index 0 raises KeyError('boom'), every time or only the first time."""

    def __init__(self, times=None):
        self.times = times

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 0 and self.times != 0:
            self.times = None if self.times is None else self.times - 1
            raise KeyError("boom")
        return np.float32(i)


@pytest.mark.parametrize("persistent", [False, True])
@pytest.mark.parametrize("num_workers", [1, 2])
def test_worker_errors_are_raised_promptly_in_every_pass(persistent, num_workers):
    loader = data.DataLoader(FailsAtZero(), batch_size=2, num_workers=num_workers, persistent_workers=persistent)
    for _ in range(2):  # the workers that answered with an error still serve the next pass
        error = _finishes(list, loader)
        assert isinstance(error, KeyError) and error.args == ("boom",)
    loader.dataset.times = 0
    batches = []
    assert _finishes(batches.extend, loader) is None
    assert [b.numpy().tolist() for b in batches] == [[0, 1], [2, 3], [4, 5], [6, 7]]


@pytest.mark.parametrize("persistent", [False, True])
def test_worker_init_fn_errors_are_raised_and_the_next_pass_starts_new_workers(persistent):
    started = []

    def init(worker_id):
        started.append(worker_id)
        if len(started) == 2:
            raise ValueError(f"no setup in worker {worker_id}")

    loader = data.DataLoader(FailsAtZero(times=0), batch_size=2, num_workers=2, persistent_workers=persistent,
                             worker_init_fn=init)
    error = _finishes(list, loader)
    assert isinstance(error, ValueError) and any("worker" in note for note in error.__notes__)
    batches = []
    assert _finishes(batches.extend, loader) is None
    assert len(batches) == 4 and len(started) == 4
    del loader, error  # the error's traceback holds the loader
    _join_loader_threads()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the thread's SystemExit
def test_a_worker_that_exits_is_an_error_not_a_hang():
    class Quits(FailsAtZero):
        def __getitem__(self, i):
            raise SystemExit  # ends the worker thread: no job answer ever comes

    error = _finishes(list, data.DataLoader(Quits(), batch_size=2, num_workers=1, persistent_workers=True))
    assert isinstance(error, RuntimeError) and "DataLoader worker 0 exited unexpectedly" in str(error)
    del error
    _join_loader_threads()  # the thread's SystemExit reaches threading.excepthook within this test


class SlowOnce(FailsAtZero):
    """Reading one of ``indices`` the first time takes ``seconds``."""

    def __init__(self, seconds, indices):
        super().__init__(times=0)
        self.seconds = seconds
        self.slow = set(indices)

    def __getitem__(self, i):
        if i in self.slow:
            self.slow.discard(i)
            threading.Event().wait(self.seconds)
        return super().__getitem__(i)


@pytest.mark.parametrize("persistent", [False, True])
@pytest.mark.parametrize("slow", [{0}, {0, 2}])  # one worker hung, or both
def test_timeout_bounds_the_wait_and_the_next_pass_works(persistent, slow):
    loader = data.DataLoader(SlowOnce(0.6, slow), batch_size=2, num_workers=2, timeout=0.1,
                             persistent_workers=persistent)
    start = time.perf_counter()
    error = _finishes(list, loader)
    assert isinstance(error, RuntimeError) and str(error) == "DataLoader timed out after 0.1 seconds"
    assert time.perf_counter() - start < 0.45  # not the 0.6 s a slow read takes
    batches = []
    assert _finishes(batches.extend, loader) is None
    assert len(batches) == 4
    del loader, error  # the error's traceback holds the loader
    _join_loader_threads()


def test_batch_transform_extra_and_the_training_loader():
    """numbaconv.data.DataLoader: the training path's loader (prefetch thread, seed=, batch transform=)."""
    images = np.random.default_rng(0).integers(0, 256, (20, 8, 8, 3), dtype=np.uint8)
    dataset = nc.data.ArrayDataset(images, np.arange(20))
    pipeline = transforms.Compose([transforms.RandomCrop(8, padding=2), transforms.Normalize((0.5,) * 3, (0.2,) * 3)])
    runs = [[b[0].numpy() for b in nc.data.DataLoader(dataset, batch_size=6, shuffle=True, seed=4,
                                                       transform=pipeline)] for _ in range(2)]
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)
    assert runs[0][0].dtype == np.float32 and runs[0][0].shape == (6, 3, 8, 8)
    with pytest.raises(ValueError, match="seed= or generator="):
        data.DataLoader(dataset, seed=1, generator=nc.Generator())
