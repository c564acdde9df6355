"""Device, dtype and thread choices."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from chatimg.devices import (
    LoadMonitor,
    ThreadPolicy,
    apply_thread_limit,
    choose_threads,
    default_dtype,
    resolve_device,
    usable_cores,
)


def test_auto_picks_cpu_here_and_bad_names_are_errors():
    if not torch.cuda.is_available():
        assert resolve_device("auto") == "cpu"
        with pytest.raises(ValueError, match="no CUDA"):
            resolve_device("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("tpu")
    assert default_dtype("cpu") == torch.float32 and default_dtype("cuda") == torch.float16


def test_thread_limit_from_the_environment(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("CHATIMG_THREADS", "1")
        assert apply_thread_limit() == 1 == torch.get_num_threads()
        monkeypatch.setenv("CHATIMG_THREADS", "zero")
        with pytest.raises(ValueError, match="whole number"):
            apply_thread_limit()
    finally:
        torch.set_num_threads(before)


def test_usable_cores_follow_affinity_and_cgroup_quota():
    assert usable_cores({0, 1, 2, 3}, "max 100000") == 4
    assert usable_cores({0, 1, 2, 3}, "150000 100000") == 1.5
    assert usable_cores({0, 1}, "800000 100000") == 2
    assert usable_cores({5}, "") == 1


@pytest.mark.parametrize("device, cores, busy, env, expected", [
    ("cpu", 2, 0.0, {}, 2),                       # idle: every core
    ("cpu", 2, 0.3, {}, 2),                       # a little background noise: still both
    ("cpu", 2, 1.0, {}, 1),                       # one core busy elsewhere: the free one only
    ("cpu", 2, 1.9, {}, 1),                       # never fewer than one
    ("cpu", 8, 2.0, {}, 6),
    ("cpu", 1.5, 0.0, {}, 1),                     # a cgroup quota of 1.5 cores
    ("cpu", 2, 1.0, {"CHATIMG_THREADS": "2"}, 2),  # the user's word wins
    ("cpu", 16, 0.0, {"CHATIMG_THREADS": "3"}, 3),
    ("cuda", 16, 0.0, {}, 2),                      # on a GPU the CPU threads stay low
    ("cuda:1", 1, 0.0, {}, 1),
    ("mps", 8, 5.0, {}, 2),
])
def test_choose_threads(device, cores, busy, env, expected):
    assert choose_threads(device, cores, busy, env) == expected


def test_bad_thread_override_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 1"):
        choose_threads("cpu", 2, 0.0, {"CHATIMG_THREADS": "0"})


class FakeClock:
    def __init__(self):
        self.now, self.busy, self.own = 0.0, 0.0, 0.0

    def advance(self, seconds, others, ours):
        """``others`` and ``ours``: cores kept busy during these ``seconds``."""
        self.now += seconds
        self.busy += seconds * (others + ours)
        self.own += seconds * ours


def test_load_monitor_counts_other_processes_not_its_own():
    clock = FakeClock()
    monitor = LoadMonitor(window=1.0, read_busy=lambda: clock.busy, own_cpu=lambda: clock.own,
                          clock=lambda: clock.now)
    monitor.sample()
    for _ in range(4):  # we paint on two cores, nobody else runs
        clock.advance(0.25, others=0.0, ours=2.0)
        monitor.sample()
    assert monitor.busy_elsewhere() == pytest.approx(0.0)
    for _ in range(4):  # a browser takes one core; we keep painting on the other
        clock.advance(0.25, others=1.0, ours=1.0)
        monitor.sample()
    assert monitor.busy_elsewhere() == pytest.approx(1.0)
    policy = ThreadPolicy("cpu", monitor=monitor, env={}, cores=2)
    assert policy.choose().threads == 1
    for _ in range(4):  # the browser stops: after a second the core is free again
        clock.advance(0.25, others=0.0, ours=0.0)
        monitor.sample()
    assert policy.choose().threads == 2


def test_policy_applies_in_the_calling_thread():
    before = torch.get_num_threads()
    seen = []

    def worker():
        policy = ThreadPolicy("cpu", monitor=None, env={"CHATIMG_THREADS": "1"}, cores=2)
        seen.append((policy.apply().threads, torch.get_num_threads()))

    try:
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert seen == [(1, 1)]
    finally:
        torch.set_num_threads(before)


@pytest.mark.slow
def test_load_monitor_sees_a_real_busy_process():
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        monitor = LoadMonitor(interval=0.1, window=1.0).start()
        time.sleep(1.2)
        assert monitor.busy_elsewhere() >= 0.6
    finally:
        burner.kill()
        burner.wait()


def test_openmp_waits_passively():
    code = "import os, chatimg; print(os.environ['OMP_WAIT_POLICY'])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert done.stdout.strip() == "PASSIVE"
