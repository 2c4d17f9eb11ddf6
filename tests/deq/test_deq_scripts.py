"""The hybrid-classifier example and the benchmark run end to end (quick settings)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
ROOT = Path(__file__).resolve().parents[2]


def _quick_run(out: Path) -> dict:
    proc = subprocess.run([sys.executable, str(ROOT / "analysis" / "hybrid_classifier.py"), "--quick", "--out",
                           str(out)], capture_output=True, text=True, check=True, timeout=600)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_hybrid_classifier_quick_run_learns(tmp_path):
    headline = _quick_run(tmp_path)
    assert headline["final_train_loss"] < 0.45  # ln 2 = 0.69 at chance
    assert headline["final_test_accuracy"] > 0.8
    for name in ("loss_curve.png", "decision_boundary.png", "training.csv"):
        assert (tmp_path / name).stat().st_size > 0


@pytest.mark.long  # a second whole run (about 100 s of a loaded 2-core worker): `make test-long`
def test_hybrid_classifier_quick_run_is_reproducible(tmp_path):
    headline = _quick_run(tmp_path / "a")
    again = _quick_run(tmp_path / "b")
    assert {k: v for k, v in headline.items() if k != "seconds"} == {k: v for k, v in again.items() if k != "seconds"}


def test_benchmark_prints_the_three_timings():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "deq.py"), "--seconds", "0.2"],
                          capture_output=True, text=True, check=True, timeout=600, cwd=ROOT)
    headline = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {"forward_s", "forward_and_gradient_s", "finite_difference_s"} <= set(headline)
    assert headline["max_rel_diff_vs_finite_difference"] < 1e-5
