"""Pick the torch device, dtype and CPU thread count.

Device: cuda > mps > cpu unless the user says otherwise. Threads: a user's CPU is rarely idle,
and torch's default (one thread per core) makes a turn about 3x slower as soon as another
program keeps a core busy. ``ThreadPolicy`` gives torch the cores that are actually free
(affinity, cgroup quota, and what other processes used over the last second, sampled by a
``LoadMonitor``), and is applied again before every paint. ``CHATIMG_THREADS`` overrides it.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(requested: str | None = "auto") -> str:
    import torch

    requested = (requested or "auto").lower()
    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but torch sees no CUDA GPU")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("--device mps was asked for, but this torch build has no MPS")
    if requested not in DEVICE_CHOICES and not requested.startswith("cuda:"):
        raise ValueError(f"unknown device {requested!r}; choose from {', '.join(DEVICE_CHOICES)}")
    return requested


def default_dtype(device: str):
    """Half precision where it is fast and safe, float32 on the CPU."""
    import torch

    return torch.float16 if device.startswith(("cuda", "mps")) else torch.float32


THREADS_ENV = "CHATIMG_THREADS"
#: On a GPU the CPU only feeds it: a couple of threads leave the rest of the machine alone.
GPU_CPU_THREADS = 2


def env_threads(env: Mapping[str, str] | None = None) -> int | None:
    """``CHATIMG_THREADS`` as a number, ``None`` when unset; a bad value is a clear error."""
    value = (os.environ if env is None else env).get(THREADS_ENV, "").strip()
    if not value:
        return None
    try:
        threads = int(value)
    except ValueError:
        raise ValueError(f"{THREADS_ENV} must be a whole number, got {value!r}") from None
    if threads < 1:
        raise ValueError(f"{THREADS_ENV} must be at least 1, got {threads}")
    return threads


def usable_cores(affinity: set[int] | None = None, cgroup_cpu_max: str | None = None) -> float:
    """Cores this process may run on: its CPU affinity, capped by a cgroup v2 quota
    (``cpu.max``, e.g. ``"150000 100000"`` is 1.5 cores). Read from the system when not given."""
    if affinity is None:
        try:
            affinity = os.sched_getaffinity(0)
        except (AttributeError, OSError):  # macOS, Windows
            affinity = set(range(os.cpu_count() or 1))
    cores = float(max(1, len(affinity)))
    if cgroup_cpu_max is None:
        try:
            cgroup_cpu_max = open("/sys/fs/cgroup/cpu.max").read()
        except OSError:
            cgroup_cpu_max = ""
    parts = cgroup_cpu_max.split()
    if len(parts) == 2 and parts[0] != "max":
        try:
            cores = min(cores, max(1.0, int(parts[0]) / int(parts[1])))
        except (ValueError, ZeroDivisionError):
            pass
    return cores


def choose_threads(device: str, cores: float, busy_elsewhere: float,
                   env: Mapping[str, str] | None = None) -> int:
    """torch intra-op threads for ``device``: ``CHATIMG_THREADS`` if set; few on a GPU; else
    the cores other processes leave free. Oversubscribing costs far more (2-3x) than leaving
    part of a core unused, so a core counts as free only when less than ~0.4 of it is taken."""
    forced = env_threads(env)
    if forced is not None:
        return forced
    whole = max(1, int(cores))
    if not device.startswith("cpu"):
        return min(GPU_CPU_THREADS, whole)
    free = cores - max(0.0, busy_elsewhere)
    return max(1, min(whole, math.floor(free + 0.4)))


def _read_proc_stat(cpus: set[int] | None) -> float | None:
    """Seconds the given CPUs (all when ``None``) spent busy since boot, from /proc/stat."""
    try:
        lines = open("/proc/stat").read().splitlines()
    except OSError:
        return None
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    busy = 0
    for line in lines:
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        if cpus is not None and int(name[3:]) not in cpus:
            continue
        values = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
        busy += sum(values) - values[3] - values[4]
    return busy / tick


class LoadMonitor:
    """How many cores other processes kept busy over the last ``window`` seconds.

    A daemon thread reads /proc/stat a few times a second (cheap) and subtracts this process's
    own CPU time, so a turn that just painted does not count as load. Where /proc/stat is
    missing, the 1-minute load average stands in."""

    def __init__(self, interval: float = 0.25, window: float = 1.0,
                 read_busy: Callable[[], float | None] | None = None,
                 own_cpu: Callable[[], float] = time.process_time,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if read_busy is None:
            try:
                cpus = os.sched_getaffinity(0)
            except (AttributeError, OSError):
                cpus = None
            read_busy = lambda: _read_proc_stat(cpus)  # noqa: E731
        self.interval, self.window = interval, window
        self._read_busy, self._own_cpu, self._clock = read_busy, own_cpu, clock
        self._samples: deque[tuple[float, float, float]] = deque(maxlen=64)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def sample(self) -> None:
        busy = self._read_busy()
        if busy is None:
            return
        with self._lock:
            self._samples.append((self._clock(), busy, self._own_cpu()))

    def start(self) -> LoadMonitor:
        if self._thread is None:
            self.sample()
            self._thread = threading.Thread(target=self._run, name="chatimg-load-monitor", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            self.sample()

    def busy_elsewhere(self) -> float:
        """Cores busy with other work lately (0 when nothing is known yet)."""
        with self._lock:
            samples = list(self._samples)
        if len(samples) == 1:  # just started: one short look now
            time.sleep(max(0.0, samples[0][0] + 0.1 - self._clock()))
            self.sample()
            with self._lock:
                samples = list(self._samples)
        if len(samples) < 2:  # no /proc/stat: the load average, less the core this process uses
            try:
                return max(0.0, os.getloadavg()[0] - 1.0)
            except (AttributeError, OSError):
                return 0.0
        newest = samples[-1]
        oldest = next((s for s in samples if newest[0] - s[0] <= self.window), samples[-2])
        if oldest is newest:
            oldest = samples[-2]
        elapsed = newest[0] - oldest[0]
        if elapsed <= 0:
            return 0.0
        others = (newest[1] - oldest[1]) - (newest[2] - oldest[2])
        return max(0.0, others / elapsed)


_MONITOR: LoadMonitor | None = None
_MONITOR_LOCK = threading.Lock()


def load_monitor() -> LoadMonitor:
    """The process's one running ``LoadMonitor``."""
    global _MONITOR
    with _MONITOR_LOCK:
        if _MONITOR is None:
            _MONITOR = LoadMonitor().start()
        return _MONITOR


@dataclass(frozen=True)
class ThreadChoice:
    threads: int
    cores: float
    busy_elsewhere: float
    forced: bool


class ThreadPolicy:
    """Chooses and applies torch's intra-op thread count for ``device``. Call ``apply()`` in
    the thread that is about to run torch work (a turn's worker), before each turn: it sees
    the load of the last second, and OpenMP keeps its thread count per calling thread."""

    def __init__(self, device: str = "cpu", monitor: LoadMonitor | None = None,
                 env: Mapping[str, str] | None = None, cores: float | None = None) -> None:
        self.device = device
        self.env = env
        self.cores = usable_cores() if cores is None else cores
        self.monitor = monitor if monitor is not None else (load_monitor() if device.startswith("cpu") else None)
        self.last: ThreadChoice | None = None

    def choose(self) -> ThreadChoice:
        busy = self.monitor.busy_elsewhere() if self.monitor is not None else 0.0
        threads = choose_threads(self.device, self.cores, busy, self.env)
        return ThreadChoice(threads, self.cores, round(busy, 2), env_threads(self.env) is not None)

    def apply(self) -> ThreadChoice:
        import torch

        choice = self.choose()
        if torch.get_num_threads() != choice.threads:
            torch.set_num_threads(choice.threads)
        self.last = choice
        return choice


def apply_thread_limit(device: str = "cpu") -> int:
    """Set torch's threads by the ``ThreadPolicy`` for ``device`` (``CHATIMG_THREADS`` wins)."""
    return ThreadPolicy(device).apply().threads
