"""Op- and kernel-level timing of numbaconv programs (torch.profiler).

    with nc.profiler.profile(record_shapes=True) as prof:
        loss = F.cross_entropy(model(x), y)
        loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))

While a profile is open, every op's forward (named by its Function, e.g. ``Conv2d``), its backward
(``Conv2dBackward``), every call into a backend module under them (``cpu.conv.conv2d_forward``,
``cpu.array_api.matmul``) and every ``record_function`` range is timed; self time is an event's time minus its
children's. Closed, the hooks cost one attribute test per op call. Times are wall clock (``perf_counter``),
so they are the CPU time of the calling thread only where nothing blocks (CUDA launches are asynchronous).
"""
import threading
import time
import types
from contextlib import contextmanager
from dataclasses import dataclass, field

from . import backends

recorder = None  # the open profile's recorder; autograd.py tests it on every op call


@dataclass
class FunctionEvent:
    """One timed call: an op's forward or backward, a backend function, or a record_function range; ``thread``
    is the calling thread's ident (a DataLoader worker's ops nest in its own stack, not in the main thread's)."""

    name: str
    input_shapes: tuple
    cpu_time_total: float = 0.0
    self_cpu_time_total: float = 0.0
    depth: int = 0
    thread: int = 0


class _Recorder:
    def __init__(self, record_shapes):
        self.record_shapes = record_shapes
        self.events = []
        self._threads = threading.local()  # .open: this thread's [event, start, children's time] stack

    def _open(self):
        stack = getattr(self._threads, "open", None)
        if stack is None:
            stack = self._threads.open = []
        return stack

    def begin(self, name, shapes=()):
        stack = self._open()
        event = FunctionEvent(name, shapes if self.record_shapes else (), depth=len(stack),
                              thread=threading.get_ident())
        stack.append([event, time.perf_counter(), 0.0])

    def end(self):
        stack = self._open()
        event, start, children = stack.pop()
        elapsed = time.perf_counter() - start
        event.cpu_time_total, event.self_cpu_time_total = elapsed, elapsed - children
        if stack:
            stack[-1][2] += elapsed
        self.events.append(event)

    def timed(self, name, shapes, call, *args, **kwargs):
        self.begin(name, shapes)
        try:
            return call(*args, **kwargs)
        finally:
            self.end()


def timed(name, function):
    """``function(ctx, *arrays, ...)`` timed as an event ``name`` of the open profile (an op's forward/backward)."""
    def call(ctx, *args, **kwargs):
        active = recorder
        if active is None:
            return function(ctx, *args, **kwargs)
        return active.timed(name, shapes_of(args) if active.record_shapes else (), function, ctx, *args, **kwargs)

    return call


def shapes_of(values):
    """The shapes of the array-like values among ``values`` (others as ``()``), for ``record_shapes``."""
    return tuple(tuple(getattr(v, "shape", ())) for v in values)


class _TimedModule:
    """A backend module whose functions time themselves while the profile is open."""

    def __init__(self, module, label):
        self._module, self._label, self._cache = module, label, {}

    def __getattr__(self, name):
        value = getattr(self._module, name)
        if isinstance(value, (type, types.ModuleType)) or not callable(value):
            return value
        timed = self._cache.get(name)
        if timed is None:
            label = f"{self._label}.{name}"

            def timed(*args, **kwargs):
                active = recorder
                if active is None:
                    return value(*args, **kwargs)
                return active.timed(label, shapes_of(args) if active.record_shapes else (), value, *args, **kwargs)

            self._cache[name] = timed
        return timed


_timed_modules = {}


def _wrap_module(device, name, module):
    timed = _timed_modules.get((device, name))
    if timed is None:
        timed = _timed_modules[(device, name)] = _TimedModule(module, f"{device}.{name}")
    return timed


class profile:
    """Records op, kernel and ``record_function`` events between enter and exit (torch.profiler.profile).

    ``record_shapes`` keeps the input shapes of each call (``key_averages(group_by_input_shape=True)``);
    ``activities`` and the other keywords of torch's profiler are accepted and ignored (CPU wall time only).
    """

    def __init__(self, activities=None, record_shapes=False, **ignored):
        self.record_shapes = record_shapes
        self._recorder = None

    def __enter__(self):
        global recorder
        if recorder is not None:
            raise RuntimeError("profile: another profile is already open (profiles do not nest)")
        self._recorder = recorder = _Recorder(self.record_shapes)
        backends.set_kernel_wrapper(_wrap_module)
        return self

    def __exit__(self, *exc):
        global recorder
        backends.set_kernel_wrapper(None)
        recorder = None
        return False

    def events(self):
        """Every recorded event, in the order they ended."""
        return list(self._recorder.events) if self._recorder else []

    def key_averages(self, group_by_input_shape=False):
        """Events grouped by name (and input shapes): calls, self and total time (torch's key_averages)."""
        groups = {}
        for event in self.events():
            key = (event.name, event.input_shapes if group_by_input_shape else ())
            group = groups.setdefault(key, EventAverage(*key))
            group.count += 1
            group.cpu_time_total += event.cpu_time_total
            group.self_cpu_time_total += event.self_cpu_time_total
        return EventList(groups.values())


@dataclass
class EventAverage:
    """Events of one name (and input shapes) summed (torch.autograd.profiler_util.FunctionEventAvg)."""

    key: str
    input_shapes: tuple = ()
    count: int = 0
    cpu_time_total: float = 0.0
    self_cpu_time_total: float = 0.0

    @property
    def cpu_time(self):
        return self.cpu_time_total / self.count


@dataclass
class EventList:
    """Averaged events with a text table (torch's EventList.table)."""

    averages: list = field(default_factory=list)

    def __post_init__(self):
        self.averages = list(self.averages)

    def __iter__(self):
        return iter(self.averages)

    def __len__(self):
        return len(self.averages)

    def table(self, sort_by="self_cpu_time_total", row_limit=100):
        """Rows sorted by ``sort_by`` (self_cpu_time_total, cpu_time_total, cpu_time or count), times in ms."""
        keys = ("self_cpu_time_total", "cpu_time_total", "cpu_time", "count")
        if sort_by not in keys:
            raise ValueError(f"table: sort_by must be one of {', '.join(keys)}, got {sort_by!r}")
        rows = sorted(self.averages, key=lambda a: getattr(a, sort_by), reverse=True)[:row_limit]
        top_level = sum(a.self_cpu_time_total for a in self.averages) or 1.0
        shapes = any(a.input_shapes for a in rows)
        width = max([len(a.key) for a in rows] + [4])
        header = f"{'Name':<{width}}  {'Self %':>7}  {'Self ms':>9}  {'Total ms':>9}  {'Avg ms':>8}  {'Calls':>6}"
        lines = [header + ("  Input shapes" if shapes else ""), "-" * (len(header) + (14 if shapes else 0))]
        for a in rows:
            line = (f"{a.key:<{width}}  {100 * a.self_cpu_time_total / top_level:>6.1f}%  "
                    f"{1e3 * a.self_cpu_time_total:>9.3f}  {1e3 * a.cpu_time_total:>9.3f}  {1e3 * a.cpu_time:>8.3f}  "
                    f"{a.count:>6}")
            lines.append(line + (f"  {list(map(list, a.input_shapes))}" if shapes else ""))
        lines.append(f"Self time total: {1e3 * top_level:.3f} ms")
        return "\n".join(lines)


@contextmanager
def record_function(name):
    """Times the enclosed block as an event named ``name`` (torch.profiler.record_function)."""
    active = recorder
    if active is None:
        yield
        return
    active.begin(name)
    try:
        yield
    finally:
        active.end()
