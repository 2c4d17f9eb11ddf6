"""analysis/epl_paper_runs.py in --quick mode: the main job and the baselines on one budget (20-25 s).

The pieces it drives are tested in the suite: the job (tests/epl/test_job.py), the learner and tasks
(tests/epl/), the equilibrium-layer training (tests/deq/test_deq_training.py).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

METHODS = ["epl", "epl_no_feedback", "rates_es", "random_search", "deq_gd_xor", "deq_gd_regression"]


@pytest.mark.slow
def test_quick_run_compares_the_methods_on_one_budget_and_gradient_training_lowers_its_loss(tmp_path) -> None:
    script = Path(__file__).resolve().parents[2] / "analysis" / "epl_paper_runs.py"
    proc = subprocess.run([sys.executable, str(script), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, check=True, timeout=900)
    headline = json.loads(proc.stdout.strip().splitlines()[-1])
    rows = {r["method"]: r for r in csv.DictReader((tmp_path / "baselines.csv").open())}
    assert list(rows) == METHODS
    # one budget (6 x 2 evaluations) for every method; the headline gives each row's final best
    assert headline["baseline_evaluations"] == 12
    for name, row in rows.items():
        assert int(row["evaluations"]) == 12
        final, top = float(row["best_fitness_final"]), float(row["best_fitness_max"])
        assert final == headline[f"baseline_{name}_best_fitness"]
        assert 0.0 <= final <= top <= 100.0
    for name in ("random_search", "deq_gd_xor", "deq_gd_regression"):  # best-so-far curves end at their best
        assert rows[name]["best_fitness_final"] == rows[name]["best_fitness_max"]
    # gradient descent through the equilibrium layer: every Adam step of the budget done, the training loss lower
    for toy in ("xor", "regression"):
        assert headline[f"baseline_deq_gd_{toy}_adam_steps"] == 12
        assert headline[f"baseline_deq_gd_{toy}_failed_samples"] == 0
        assert headline[f"baseline_deq_gd_{toy}_loss_final"] < headline[f"baseline_deq_gd_{toy}_loss_first"]
        assert 0.0 <= headline[f"baseline_deq_gd_{toy}_layer_score"] <= 100.0
    # the main run's figures are its own summary's
    summary = json.loads((tmp_path / "paper_run" / "summary.json").read_text())
    assert headline["paper_best_fitness"] == summary["best_fitness"]
    assert (headline["paper_generations_done"], headline["paper_population"]) == (2, 6)
    assert (tmp_path / "baselines.png").stat().st_size > 0
