"""``chatimg bench turn``: the report names every ratio, the burner comes and goes, a real run
measures everything it says (slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chatimg.bench.turn import BARS, Burner, report
from chatimg.ui.turn_probe import percentiles

RATIOS = ["app_over_bare", "busy_app_over_bare", "busy_over_idle", "busy_over_idle_default_threads",
          "first_over_warm", "frame_lag_p99_ms", "key_echo_p99_ms", "startup_first_frame_s",
          "startup_models_ready_s"]


def test_percentiles_in_milliseconds():
    values = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    assert percentiles(values) == {"n": 100, "p50": 51.0, "p95": 95.0, "p99": 99.0, "max": 100.0}
    assert percentiles([])["p99"] is None


def test_the_burner_keeps_a_core_busy_and_stops():
    with Burner() as burner:
        time.sleep(0.3)
        assert burner.process.poll() is None
        with open(f"/proc/{burner.process.pid}/stat") as stat:
            assert stat.read().split()[2] in "RS"
    assert burner.process.poll() is not None


def test_report_shows_each_ratio_against_its_bar():
    calls = {"app_s": 0.3, "bare_s": 0.29, "threads": 2, "previews_per_turn": 1.0}
    result = {"date": "2026-12-03 12:00", "cores": 2.0, "load_average": 0.5, "repeats": 3, "threads_forced": None,
              "busy_elsewhere_at_start": 0.1, "idle": calls, "busy": {**calls, "threads": 1},
              "busy_default_threads": {**calls, "bare_s": None}, "app_over_bare": 1.03, "busy_app_over_bare": 1.02,
              "busy_over_idle": 1.4, "busy_over_idle_default_threads": 3.0, "first_over_warm": 1.1,
              "frame_lag_p99_ms": 12.0, "key_echo_p99_ms": 8.0, "startup_first_frame_s": 0.6,
              "startup_models_ready_s": 9.0, "first_turn_s": 0.4, "warm_turn_s": 0.36, "ui_turn_s": 3.0,
              "ui_steps": 60, "frame_lag_ms": percentiles([0.01, 0.012]), "key_echo_ms": percentiles([0.008])}
    text = report(result)
    lines = {line.split("  ")[0]: line for line in text.splitlines()}
    assert "over" in lines["one core busy / idle (thread policy)"]  # 1.4 > 1.3
    assert lines["app / bare call (idle, previews on)"].endswith("ok")
    assert "start-up to models ready (loaded, warmed up)" in lines
    assert set(BARS) <= set(RATIOS)


@pytest.mark.slow
def test_a_real_run_measures_every_ratio(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CHATIMG_THREADS"}
    env.update(CHATIMG_CACHE=str(tmp_path / "cache"), CHATIMG_SESSIONS=str(tmp_path / "sessions"),
               PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    done = subprocess.run([sys.executable, "-m", "chatimg.cli", "bench", "turn", "--repeats", "1", "--ui-steps", "4",
                           "--warm-turns", "1", "--json"], capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    for name in RATIOS:
        assert isinstance(result[name], (int, float)) and result[name] > 0, name
    assert result["busy"]["threads"] <= result["idle"]["threads"]  # the burner took a core
    assert result["busy_default_threads"]["threads"] == int(result["cores"])
    assert result["idle"]["previews_per_turn"] >= 0 and result["key_echo_ms"]["n"] >= 1
    assert not (tmp_path / "sessions").exists()  # the probe paints in a folder of its own
