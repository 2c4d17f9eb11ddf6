"""analysis/epl_paper_runs.py in --quick mode: the main job, the baselines, the table and the JSON line.

A whole-script run of minutes (265 s of a 2-core worker, measured): `make test-long` runs it, `make test`
does not. The pieces it drives are tested in the suite: the job (tests/epl/test_job.py), the learner and
tasks (tests/epl/), the equilibrium-layer training (tests/deq/test_deq_training.py).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.long
def test_script_quick_run(tmp_path) -> None:
    script = Path(__file__).resolve().parents[2] / "analysis" / "epl_paper_runs.py"
    proc = subprocess.run([sys.executable, str(script), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, check=True, timeout=900)
    headline = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ("paper_wall_s", "paper_best_fitness", "paper_mean_fitness_final",
                "paper_first_gen_best_at_least_99", "paper_training_time_reduction_pct_per_gen",
                "baseline_epl_best_fitness", "baseline_epl_no_feedback_best_fitness",
                "baseline_rates_es_best_fitness", "baseline_random_search_best_fitness",
                "baseline_deq_gd_xor_best_fitness", "baseline_deq_gd_regression_best_fitness"):
        assert key in headline
    rows = list(csv.DictReader((tmp_path / "baselines.csv").open()))
    assert [r["method"] for r in rows] == ["epl", "epl_no_feedback", "rates_es", "random_search", "deq_gd_xor",
                                          "deq_gd_regression"]
    assert all(int(r["evaluations"]) == 12 for r in rows)  # one budget: 6 x 2
    assert all(0.0 <= float(r["best_fitness_final"]) <= 100.0 for r in rows)
    assert (tmp_path / "baselines.png").stat().st_size > 0
    assert (tmp_path / "paper_run" / "summary.json").exists()
