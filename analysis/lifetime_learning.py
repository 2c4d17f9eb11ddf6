"""Do EPL learners learn? Lifetime tasks, ablations, reference policies, learning speed (issue 16).

    python analysis/lifetime_learning.py --out runs/lifetime [--quick] [--seed 0]
        [--tasks bandit2,bandit5,cartpole-reversal] [--from-run TASK=RUN_DIR ...]
        [--lifetimes N] [--policy-lifetimes 300] [--generations N] [--workers N] [--frozenlake]

For each lifetime task: evolve with the task's preset (``epl-sysbio evolve
--preset TASK``; ``--generations`` overrides its horizon) or take an existing
run directory (``--from-run``), then evaluate the champion, its three
ablations (feedback off, feedback shuffled, state reset before every step) and
the reference policies on ``--lifetimes`` held-out lifetimes whose seeds
evolution never used (a run's own closing report, written when its
evolution ends, is taken as it is when ``--lifetimes`` is not given).
Learning speed per generation comes from the run's logbook: the
per-generation reduction of the best learner's trials to criterion from the
first generation that reached it, and the least-squares reduction of the
population's mean learning speed.

With ``--survey N`` also evaluates N random CPPN genomes (NEAT's minimal
genomes, as in a first generation) on bandit2 under each encoding variant of
:data:`VARIANTS` (Active rule, feedback routing, previous action, feedback
amounts, reservoirs) and counts the learners among them (fitness >= 75 over
balanced lifetimes: a fixed policy scores 50 +- 1.5): which choices make
learning reachable at all.

With ``--frozenlake`` also evolves FrozenLake (``frozenlake-paper`` preset
for 6 generations, slippery and not) and puts its best fitness beside the
value-iteration ceilings (:func:`epl_sysbio.epl.references.frozenlake_ceiling`)
and the paper's 91.

Writes into --out: ``<task>/`` (the run directory, unless taken from
elsewhere), ``<task>/report/ablations.csv`` and
``<task>/report/plots/learning_curves.png``, ``lifetime_learning.csv`` (the
table: task, agent, mean, SEM, learning speed, criterion-met fraction,
anchors and targets) and ``lifetime_learning.md`` (the same as a Markdown
table), and prints one JSON line of headline figures last.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _script import write_csv  # noqa: E402  (sibling module)

from epl_sysbio.epl.config import preset
from epl_sysbio.epl.held_out import DEFAULT_HELD_OUT_SEED, load_champion, write_lifetime_report
from epl_sysbio.epl.job import run_job
from epl_sysbio.epl.references import PAPER_FROZENLAKE_BEST, PUBLISHED, frozenlake_ceiling
from epl_sysbio.evolve import ProcessExecutor
from epl_sysbio.seeds import derive_seed

TASKS = ("bandit2", "bandit5", "cartpole-reversal")
QUICK = {"population": 6, "generations": 2, "lifetimes": 10, "frozenlake_generations": 1, "frozenlake_population": 6}
#: Non-learning ceilings, published anchors and the issue's targets, per task (score units).
ANCHORS = {
    "bandit2": {"ceiling": 50.0, "anchor": "ES + RNN ~90 (gymnax BernoulliBandit)", "target": ">= 85; shuffled <= 55"},
    "bandit5": {"ceiling": 50.0, "anchor": f"Gittins {PUBLISHED['bandit5']['gittins']}, "
                                           f"RL^2 {PUBLISHED['bandit5']['rl2']} (Duan et al. 2016)",
                "target": ">= 75"},
    "cartpole-reversal": {"ceiling": 50.0, "anchor": "none published",
                          "target": ">= 90 % solved; reset <= 55 %"},
}


#: Encoding variants of the survey: (name, changes to the bandit2 preset).
VARIANTS = (
    ("preset", {}),
    ("active=mean_change", {"learner": {"active": "mean_change"}}),
    ("routing=outcome", {"task": {"feedback_routing": "outcome"}}),
    ("previous_action", {"task": {"previous_action": True}}),
    ("feedback x0.2", {"task": {"success_feedback": 0.2, "failure_feedback": 0.2}}),
    ("feedback x5", {"task": {"success_feedback": 5.0, "failure_feedback": 5.0}}),
    ("no reservoirs", {"substrate": {"reservoirs": False}}),
    ("no charges (V = 0)", {"substrate": {"max_charge": 0}}),
    ("3 spaces", {"substrate": {"n_spaces": 3}}),
)
LEARNER_FITNESS = 75.0


def _survey_one(genome, seed: int, config) -> tuple[float, str]:
    from epl_sysbio.epl.substrate import evaluate_genome

    report = evaluate_genome(genome, seed, config)
    return report.fitness, report.status


def _survey(args: argparse.Namespace, n: int) -> tuple[list[list], dict]:
    """Random first-generation genomes on bandit2 under each variant (same genomes, same seeds)."""
    import numpy as np

    from epl_sysbio.evolve import initial_genome

    base = _task_config("bandit2", args)
    rng = np.random.default_rng(args.seed)
    genomes = [initial_genome(base.neat, rng) for _ in range(n)]
    seeds = [derive_seed(args.seed + 1, 0, i) for i in range(n)]
    rows, figures = [], {}
    with ProcessExecutor(workers=args.workers) as pool:
        for name, changes in VARIANTS:
            config = base.replace(**changes)
            print(f"[lifetime_learning] survey {name}: {n} random genomes", flush=True)
            results = pool.map(_survey_one, genomes, seeds, [config] * n)
            fit = np.array([r[0] if r is not None else 0.0 for r in results])
            ok = sum(r is not None and r[1] == "ok" for r in results)
            learners = int(np.sum(fit >= LEARNER_FITNESS))
            rows.append([name, n, ok, learners, float(fit.max()), float(np.median(fit[fit > 0])) if ok else 0.0])
            figures[f"survey_{name}_learners"] = learners
    figures["survey_genomes"] = n
    return rows, figures


def _bandit_policy(champion, n: int, seed: int) -> dict:
    """How the champion plays a bandit (unablated, ``n`` held-out lifetimes): what it learned to do.

    First arm pulled, arm switches per lifetime, the fraction of lifetimes
    ending on a best arm, and whether it ever returns to an arm it left.
    """
    import numpy as np

    from epl_sysbio.epl.ablations import LifetimeStart, held_out_seeds
    from epl_sysbio.epl.held_out import used_seeds
    from epl_sysbio.epl.substrate import build_network, make_learner, task_for

    config = champion.config
    task = task_for(config.task)
    learner = make_learner(build_network(champion.genome, config), config)
    start = LifetimeStart.initialised(learner)
    first, switches, returns, best_at_end = [], [], 0, 0
    for s in held_out_seeds(seed, n, used_seeds(config, champion.generations))[0]:
        start.apply(learner)
        p, u = task.draw(s)
        arms, previous = [], None
        for t in range(config.task.pulls):
            arm = int(np.argmax(learner.step(task.encode(previous)).activity))
            learner.feed_back(task.feedback(arm, bool(u[t, arm] < p[arm])))
            arms.append(arm)
            previous = arm
        runs = [a for i, a in enumerate(arms) if i == 0 or a != arms[i - 1]]
        first.append(arms[0])
        switches.append(len(runs) - 1)
        returns += len(runs) > len(set(runs))
        best_at_end += p[arms[-1]] == p.max()
    counts = np.bincount(first, minlength=task.k)
    return {"policy_first_arm_fraction": (counts / n).tolist(),
            "policy_switches_per_lifetime": float(np.mean(switches)),
            "policy_lifetimes_returning_to_a_left_arm": returns / n, "policy_ends_on_best_arm": best_at_end / n}


def _population_learning_speed(run_dir: Path) -> dict:
    """The population's mean learning speed (trials to criterion) over generations, from the run's logbook.

    The best learner's speed often sits at its floor (10 pulls) from the
    first generation, so its reduction says little; the mean over the
    generation's learners shows whether evolution spreads faster learning.
    Returns the first and last generation's mean and the least-squares
    reduction in % of the first generation's mean per generation.
    """
    import csv

    import numpy as np

    rows = [r for r in csv.DictReader((run_dir / "logbook.csv").open()) if r.get("mean_learning_speed")]
    if len(rows) < 2:
        return {}
    gens = np.array([int(r["gen"]) for r in rows])
    speed = np.array([float(r["mean_learning_speed"]) for r in rows])
    slope = np.polyfit(gens, 100.0 * speed / speed[0], 1)[0]
    return {"mean_learning_speed_first_gen": float(speed[0]), "mean_learning_speed_final_gen": float(speed[-1]),
            "mean_learning_speed_reduction_pct_per_gen": float(-slope)}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--quick", action="store_true", help="small fast smoke run")
    parser.add_argument("--seed", type=int, default=0, help="run seed of the evolutions and of the held-out lifetimes")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated lifetime tasks")
    parser.add_argument("--from-run", action="append", default=[], metavar="TASK=RUN_DIR",
                        help="take this run directory instead of evolving TASK")
    parser.add_argument("--lifetimes", type=int,
                        help="held-out lifetimes per agent (default: a run's own closing report for --held-out-seed "
                             "whatever its lifetimes, else 1000)")
    parser.add_argument("--policy-lifetimes", type=int, default=300,
                        help="held-out lifetimes of the bandit champions' play statistics (default 300)")
    parser.add_argument("--held-out-seed", type=int, default=DEFAULT_HELD_OUT_SEED,
                        help="seed of the held-out lifetimes (seeds evolution used are skipped)")
    parser.add_argument("--generations", type=int, help="override the presets' generations")
    parser.add_argument("--workers", type=int, default=0, help="worker processes (0: one per core)")
    parser.add_argument("--frozenlake", action="store_true", help="also evolve FrozenLake, slippery and not")
    parser.add_argument("--survey", type=int, default=0, metavar="N",
                        help="also evaluate N random genomes on bandit2 under each encoding variant")
    parser.add_argument("--learner", action="append", default=[], metavar="KEY=VALUE",
                        help="override a [learner] option of every run (e.g. settle=time_course)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def _evolve(name: str, config, out: Path) -> Path:
    print(f"[lifetime_learning] evolving {name}: population {config.neat.population_size}, "
          f"{config.run.generations} generations -> {out}", flush=True)
    run_job(config, out, force=True)
    return out


def _task_config(name: str, args: argparse.Namespace):
    changes = {"run": {"seed": args.seed, "workers": args.workers, "progress": False}}
    changes["task"] = {"held_out_lifetimes": args.lifetimes or 1000}
    if args.quick:
        changes["neat"] = {"population_size": QUICK["population"]}
        changes["run"]["generations"] = QUICK["generations"]
        changes["task"] = {"held_out_lifetimes": QUICK["lifetimes"], "lifetimes": 2}
    if args.generations is not None:
        changes["run"]["generations"] = args.generations
    if args.learner:
        changes["learner"] = {k: _value(v) for k, v in (item.split("=", 1) for item in args.learner)}
    return preset(name).replace(**changes)


def _value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _frozenlake(args: argparse.Namespace) -> dict:
    """Best fitness of a short FrozenLake evolution (slippery and not) beside the value-iteration ceilings."""
    out = {}
    for slippery in (True, False):
        key = "slippery" if slippery else "not_slippery"
        changes = {"run": {"seed": args.seed, "workers": args.workers, "progress": False,
                           "generations": QUICK["frozenlake_generations"] if args.quick else 6},
                   "task": {"slippery": slippery}}
        if args.quick:
            changes["neat"] = {"population_size": QUICK["frozenlake_population"]}
        result = run_job(preset("frozenlake-paper").replace(**changes), args.out / f"frozenlake_{key}", force=True)
        out[f"frozenlake_{key}_best_fitness"] = result.summary["best_fitness"]
        out[f"frozenlake_{key}_mean_fitness_final"] = result.summary["mean_fitness_final"]
        out[f"frozenlake_{key}_ceiling_pct"] = frozenlake_ceiling(slippery=slippery)
    out["frozenlake_paper_best"] = PAPER_FROZENLAKE_BEST
    return out


def main(argv: list[str] | None = None) -> dict:
    args = _arguments(argv)
    t0 = time.perf_counter()
    runs = dict(item.split("=", 1) for item in args.from_run)
    lifetimes = QUICK["lifetimes"] if args.quick else args.lifetimes
    counts = {}
    rows, headline = [], {}
    for name in [t for t in args.tasks.split(",") if t]:
        key = name.replace("-", "_")
        run_dir = Path(runs[name]) if name in runs else _evolve(name, _task_config(name, args), args.out / name)
        champion = load_champion(run_dir)
        summary = json.loads((run_dir / "summary.json").read_text())
        own = summary.get("held_out_seed") == args.held_out_seed and (run_dir / "ablations.csv").exists() \
            and lifetimes in (None, summary.get("held_out_lifetimes"))
        if own:  # the run's own closing report is this one
            figures, table_csv = summary, run_dir / "ablations.csv"
            print(f"[lifetime_learning] {name}: the run's report on {summary['held_out_lifetimes']} held-out "
                  "lifetimes", flush=True)
        else:
            report_dir = args.out / name / "report"
            print(f"[lifetime_learning] {name}: champion of generation {champion.generation}, {lifetimes or 1000} "
                  "held-out lifetimes x 4 ablations + references", flush=True)
            with ProcessExecutor(workers=args.workers) as pool:
                figures = write_lifetime_report(champion, executor=pool, lifetimes=lifetimes or 1000,
                                                seed=args.held_out_seed, out=report_dir)
            table_csv = report_dir / "ablations.csv"
        counts[name] = figures["held_out_lifetimes"]
        headline[f"{key}_held_out_lifetimes"] = counts[name]
        headline[f"{key}_order_dependence"] = figures.get("order_dependence")
        for line in table_csv.read_text().splitlines()[1:]:
            agent, kind, n, mean, sem, speed, reached, stopped = line.split(",")
            rows.append([name, agent, kind, int(n), float(mean), float(sem), float(speed), float(reached),
                         int(stopped), ANCHORS[name]["ceiling"], ANCHORS[name]["anchor"], ANCHORS[name]["target"]])
        reduction = summary.get("learning_speed_reduction_pct_per_gen")
        headline[f"{key}_learning_speed_reduction_pct_per_gen"] = reduction
        headline.update({f"{key}_{k}": v for k, v in _population_learning_speed(run_dir).items()})
        headline[f"{key}_first_gen_reaching_criterion"] = summary.get("first_gen_goal_reached")
        headline[f"{key}_generations"] = summary.get("generations")
        headline[f"{key}_champion_generation"] = champion.generation
        if name == "cartpole-reversal":
            headline["cartpole_reversal_solved_fraction"] = figures["held_out_reached_fraction"]
            headline["cartpole_reversal_reset_fraction"] = figures["held_out_reset_reached_fraction"]
            headline["cartpole_reversal_fixed_fraction"] = next(r[7] for r in rows if r[:2] == [name, "fixed"])
            headline["cartpole_reversal_switch_fraction"] = next(r[7] for r in rows if r[:2] == [name, "switch"])
        else:
            headline[f"{key}_reward"] = figures["held_out_none_score"]
            headline[f"{key}_reward_sem"] = figures["held_out_none_sem"]
            headline[f"{key}_feedback_off_reward"] = figures["held_out_off_score"]
            headline[f"{key}_shuffled_reward"] = figures["held_out_shuffled_score"]
            headline[f"{key}_reset_reward"] = figures["held_out_reset_score"]
            headline[f"{key}_thompson_reward"] = figures["held_out_thompson_score"]
            headline[f"{key}_learning_speed_pulls"] = figures["held_out_none_learning_speed"]
            policy = _bandit_policy(champion, min(counts[name], args.policy_lifetimes), args.held_out_seed)
            headline.update({f"{key}_{k}": v for k, v in policy.items()})
        if name == "bandit5":
            headline["bandit5_gittins_reward"] = figures["held_out_gittins_score"]
        if name == "bandit2":
            headline["bandit2_bayes_optimal_reward"] = figures["held_out_bayes_optimal_score"]
    first = ("bandit2", "bandit5", "cartpole_reversal")  # the first task whose best learner reached the criterion
    headline["learning_speed_reduction_pct_per_gen"] = next(
        (headline[f"{k}_learning_speed_reduction_pct_per_gen"] for k in first
         if headline.get(f"{k}_learning_speed_reduction_pct_per_gen") is not None), None)
    if args.frozenlake:
        headline.update(_frozenlake(args))
    if args.survey:
        survey_rows, figures = _survey(args, args.survey)
        write_csv(args.out / "survey.csv", ["variant", "genomes", "ran", "learners_fitness_ge_75", "best_fitness",
                                            "median_fitness_of_those_that_ran"], survey_rows)
        headline.update(figures)
    header = ["task", "agent", "kind", "lifetimes", "mean_score", "sem", "learning_speed", "reached_fraction",
              "stopped", "non_learning_ceiling", "anchor", "target"]
    write_csv(args.out / "lifetime_learning.csv", header, rows)
    table = ["| task | agent | held-out lifetimes | mean score | SEM | learning speed | criterion met |",
             "|---|---|---|---|---|---|---|"]
    table += [f"| {r[0]} | {r[1]} | {r[3]} | {r[4]:.2f} | {r[5]:.2f} | {r[6]:.1f} | {100 * r[7]:.1f} % |"
              for r in rows]
    (args.out / "lifetime_learning.md").write_text("\n".join(table) + "\n")
    headline.update(held_out_lifetimes=min(counts.values(), default=None), seed=args.seed,
                    wall_s=time.perf_counter() - t0)
    print(json.dumps(headline))
    return headline


if __name__ == "__main__":
    main()
