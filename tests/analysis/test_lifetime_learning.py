"""analysis/lifetime_learning.py in --quick mode on bandit2: evolve, held-out report, table and JSON line."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_script_quick_run(tmp_path) -> None:
    script = Path(__file__).resolve().parents[2] / "analysis" / "lifetime_learning.py"
    proc = subprocess.run([sys.executable, str(script), "--quick", "--tasks", "bandit2", "--workers", "1",
                           "--out", str(tmp_path)], capture_output=True, text=True, check=True, timeout=900)
    headline = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ("bandit2_reward", "bandit2_shuffled_reward", "bandit2_feedback_off_reward", "bandit2_reset_reward",
                "bandit2_mean_learning_speed_reduction_pct_per_gen", "bandit2_held_out_lifetimes",
                "bandit2_thompson_reward", "bandit2_order_dependence", "bandit2_policy_ends_on_best_arm",
                "learning_speed_reduction_pct_per_gen"):
        assert key in headline
    assert headline["held_out_lifetimes"] == 10
    rows = list(csv.DictReader((tmp_path / "lifetime_learning.csv").open()))
    assert [r["agent"] for r in rows][:4] == ["champion", "off", "shuffled", "reset"]
    assert {r["task"] for r in rows} == {"bandit2"} and all(int(r["lifetimes"]) == 10 for r in rows)
    assert "| bandit2 | champion |" in (tmp_path / "lifetime_learning.md").read_text()
    assert (tmp_path / "bandit2" / "plots" / "learning_curves.png").stat().st_size > 0
    # --from-run without --lifetimes takes the run's own closing report as it is (no re-evaluation)
    again = subprocess.run([sys.executable, str(script), "--tasks", "bandit2", "--workers", "1",
                            "--from-run", f"bandit2={tmp_path / 'bandit2'}", "--out", str(tmp_path / "again")],
                           capture_output=True, text=True, check=True, timeout=900)
    assert "the run's report on 10 held-out lifetimes" in again.stdout
    reused = json.loads(again.stdout.strip().splitlines()[-1])
    assert reused["bandit2_held_out_lifetimes"] == 10 and reused["bandit2_reward"] == headline["bandit2_reward"]
    assert not (tmp_path / "again" / "bandit2").exists()
