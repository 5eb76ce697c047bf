"""A one-line terminal progress bar with loss, accuracy, images/s and ETA (cf. tqdm)."""
import sys
import time


class ProgressBar:
    """Redraws one line on ``stream`` at most every ``interval`` seconds; ``close`` ends the line. ``disable=True``
    draws nothing (tqdm's ``disable``; the ranks other than 0 of a data-parallel run)."""

    def __init__(self, total, label, stream=sys.stderr, interval=0.5, width=24, disable=False):
        self.total, self.label, self.stream, self.disable = total, label, stream, bool(disable)
        self.interval, self.width = interval, width
        self.start = self.last = time.perf_counter()
        self.done = 0

    def update(self, steps, **stats):
        self.done += steps
        now = time.perf_counter()
        if not self.disable and (now - self.last >= self.interval or self.done >= self.total):
            self.last = now
            self._draw(now, stats)

    def _draw(self, now, stats):
        fraction = self.done / max(self.total, 1)
        filled = int(self.width * fraction)
        elapsed = now - self.start
        eta = elapsed / fraction - elapsed if fraction else 0.0
        fields = " ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in stats.items())
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} {fields} eta {eta:4.0f}s ")
        self.stream.flush()

    def close(self):
        if self.disable:
            return
        self.stream.write("\n")
        self.stream.flush()
