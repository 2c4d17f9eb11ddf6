"""A main-job run's headline figures, from its logbook records (what ``summary.json`` holds).

Training time (the paper's Fig. 3) is the best learner's learning steps to
the goal (feedback injections until the end of its first epoch scoring >=
``task.goal``); the reduction per generation is minus the slope of a
least-squares line through ``100 * steps(g) / steps(g0)`` over the
generations ``g >= g0`` whose best learner reached the goal, ``g0`` the first.
On lifetime tasks the training time is the learning speed (mean trials to
the criterion, :mod:`.ablations`), "reached" meaning in at least half of the
lifetimes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .config import EplJobConfig
from .lifetime_tasks import LIFETIME_TASKS

__all__ = ["summarise", "training_time_curve"]


def _slope(x: list[float], y: list[float]) -> float:
    xa, ya = np.asarray(x, float), np.asarray(y, float)
    return float(np.polyfit(xa, ya, 1)[0])


def training_time_curve(records: list[dict]) -> tuple[list[int], list[float]]:
    """Generations from the first whose best learner reached the goal, and its training time relative to that one (%)."""
    goal = [r for r in records if r["best_steps_to_goal"] is not None]
    if not goal:
        return [], []
    ref = goal[0]["best_steps_to_goal"]
    return [r["gen"] for r in goal], [100.0 * r["best_steps_to_goal"] / ref for r in goal]


def summarise(config: EplJobConfig, records: list[dict], wall_s: float) -> dict[str, Any]:
    """The headline figures of a run (what summary.json holds)."""
    best = max(records, key=lambda r: r["best_fitness"]) if records else None
    gens, rel = training_time_curve(records)
    reduction = -_slope(gens, rel) if len(gens) >= 2 else None
    first99 = next((r["gen"] for r in records if r["best_fitness"] >= 99.0), None)
    evaluations = records[-1]["evaluations"] if records else 0
    alignments = [r["best_alignment"] for r in records if r.get("best_alignment") is not None]
    return {
        "task": config.task.name,
        "population": config.neat.population_size,
        "generations": len(records),
        "generations_planned": config.run.generations,
        "epochs": config.task.epochs,
        "evaluations": evaluations,
        "backend": config.learner.backend,
        "wall_s": wall_s,
        "generation_wall_s": [r["wall_s"] for r in records],
        "wall_s_per_evaluation": wall_s / evaluations if evaluations else None,
        "best_fitness": best["best_fitness"] if best else None,
        "best_generation": best["gen"] if best else None,
        "best_performance": best["best_performance"] if best else None,
        "first_gen_best_at_least_99": first99,
        "first_gen_goal_reached": gens[0] if gens else None,
        "best_fitness_final": records[-1]["best_fitness"] if records else None,
        "mean_fitness_final": records[-1]["mean_fitness"] if records else None,
        "training_time_reduction_pct_per_gen": reduction,
        "learning_speed_reduction_pct_per_gen": reduction if config.task.name in LIFETIME_TASKS else None,
        "training_time_final_pct": rel[-1] if rel else None,
        "alignment_mean": float(np.mean(alignments)) if alignments else None,
        "seed": config.run.seed,
    }
