"""Lifetime tasks, ablations and reference policies: hidden variables, ceilings, and that ablations remove feedback.

Statistical tolerances are three standard errors of the quantity tested.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from epl_sysbio.dynamics import spec_to_model
from epl_sysbio.dynamics.examples import appendix_b_spec
from epl_sysbio.epl.ablations import ABLATIONS, AblatedLearner, LifetimeStart, balanced_lifetimes, \
    donor_sequences, evaluate_ablations, held_out_seeds, learner_lifetimes, lifetime_seeds
from epl_sysbio.epl.backends import NativeDynamics
from epl_sysbio.epl.fitness import evaluate_learner
from epl_sysbio.epl.learner import EplLearner, LearnerOptions
from epl_sysbio.epl.lifetime_tasks import Bandit2, Bandit5, CartPoleReversal, trials_to_criterion
from epl_sysbio.epl.references import PUBLISHED, REFERENCE_POLICIES, bayes_optimal_bandit2, frozenlake_ceiling, \
    frozenlake_value_iteration, reference_lifetimes
from epl_sysbio.epl.registry import make_task
from epl_sysbio.epl.tasks import FrozenLake, TaskConfig
from epl_sysbio.errors import ConfigError, InvalidValueError
from epl_sysbio.model import Model
from epl_sysbio.simulate import Engine

#: A hand-written bandit2 learner with feedback routed by action: a success unit on arm a turns into output
#: o_a, a failure unit binds o_a away; the outputs' levels (Active "mean") then follow the per-arm counts.
COUNTER = """
model counter
  compartment c = 1
  species cue in c, s0 in c, f0 in c, s1 in c, f1 in c, o0 in c, o1 in c, w0 in c, w1 in c
  C: cue -> ; k*cue
  S0: s0 -> o0; k*s0
  S1: s1 -> o1; k*s1
  F0: f0 + o0 -> w0; k*(f0*o0 - w0/K)
  F1: f1 + o1 -> w1; k*(f1*o1 - w1/K)
  k = 5; K = 100
  cue = 0; s0 = 0; s1 = 0; f0 = 0; f1 = 0; o0 = 2.001; o1 = 2; w0 = 0.01; w1 = 0.01
end
"""


def counter_learner() -> EplLearner:
    return EplLearner(Engine(Model.from_antimony(COUNTER)), ("cue",), ("o0", "o1"), ("s0", "f0", "s1", "f1"),
                      LearnerOptions(active="mean"))


def within(value: float, expected: float, sem: float, k: float = 3.0) -> bool:
    return abs(value - expected) <= k * sem


# ------------------------------------------------------------------ snapshot / restore

@pytest.mark.parametrize("backend", ["roadrunner", "native"])
def test_snapshot_restore_round_trip_gives_the_same_state_and_the_same_future(backend):
    spec = appendix_b_spec()
    options = LearnerOptions()
    if backend == "native":
        lrn = EplLearner(NativeDynamics(spec, options.tolerances), ("x_L_out",), ("x_LR_mem", "x_I_ins"),
                         ("x_R_mem",), options)
    else:
        engine = Engine(spec_to_model(spec))
        signed = tuple(n.momentum_id for n in spec.nodes if n.momentum_id in engine.floating_ids)
        lrn = EplLearner(engine, ("x_L_out",), ("x_LR_mem", "x_I_ins"), ("x_R_mem",), options, signed=signed)
    assert lrn.signed and lrn.initialise() == "ok"
    snap = lrn.snapshot()
    totals = lrn.engine.conserved_totals() if backend == "roadrunner" else None

    def play() -> list[np.ndarray]:
        out = []
        for x, f in ((0.3, 0.1), (0.1, 0.4), (0.5, 0.0)):
            out.append(lrn.step([x]).activity)
            lrn.feed_back([f])
        return out

    first = play()
    moved = lrn.snapshot()
    assert not np.allclose(moved, snap)
    lrn.restore(snap)
    np.testing.assert_array_equal(lrn.snapshot(), snap)  # every floating species, momenta included
    if totals is not None:
        assert lrn.engine.conserved_totals() == pytest.approx(totals, rel=1e-12)
    second = play()
    # the kernel carries its integrator's next step size from window to window (not part of the state):
    # the replay agrees within the integration tolerance there, to round-off on libRoadRunner
    rtol = options.integrator_rtol if backend == "native" else 1e-9
    for a, b in zip(first, second):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(lrn.snapshot(), moved, rtol=rtol, atol=1e-12)


def test_a_lifetime_start_revives_a_learner_a_lifetime_stopped():
    lrn = counter_learner()
    start = LifetimeStart.initialised(lrn)
    lrn.stop("diverged", "for the test")
    lrn.restore(start.state)
    assert not lrn.ok  # restore alone keeps the status
    start.apply(lrn)
    assert lrn.ok and lrn.message == ""


# ------------------------------------------------------------------ tasks

def test_bandit2_draws_its_hidden_arms_per_lifetime():
    task = Bandit2(TaskConfig(name="bandit2"))
    seeds = lifetime_seeds(5, 400)
    p = np.array([task.draw(s)[0] for s in seeds])
    assert set(np.round(p[:, 0], 12)) == {0.1, 0.9}
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    high = (p[:, 0] > 0.5).astype(float)
    assert within(high.mean(), 0.5, 0.5 / np.sqrt(len(seeds)))
    np.testing.assert_array_equal(task.draw(seeds[0])[1], task.draw(seeds[0])[1])  # a pure function of the seed
    np.testing.assert_array_equal(task.draw(seeds[0], image=1)[0], task.draw(seeds[0])[0][::-1])


def test_bandit5_draws_five_independent_uniform_arms_per_lifetime():
    task = Bandit5(TaskConfig(name="bandit5"))
    p = np.array([task.draw(s)[0] for s in lifetime_seeds(6, 400)])
    assert p.shape == (400, 5) and len(np.unique(p[:, 0])) == 400
    assert within(p.mean(), 0.5, np.sqrt(1 / 12 / p.size))
    assert abs(np.corrcoef(p[:, 0], p[:, 1])[0, 1]) < 3 / np.sqrt(400)


def test_cartpole_reversal_swaps_the_actions_in_a_random_half_of_lifetimes():
    seeds = lifetime_seeds(7, 400)
    flags = np.array([CartPoleReversal.reversed(s) for s in seeds], dtype=float)
    assert within(flags.mean(), 0.5, 0.5 / np.sqrt(len(seeds)))
    task = CartPoleReversal(TaskConfig(name="cartpole-reversal", observations="pole", feedback_routing="outcome"))
    assert (task.n_inputs, task.n_outputs, task.n_feedback, task.trials) == (4, 2, 2, 10)


def test_encodings_and_feedback_routing():
    b2 = Bandit2(TaskConfig(name="bandit2", input_scale=2.0, success_feedback=3.0, failure_feedback=0.5))
    assert (b2.n_inputs, b2.n_outputs, b2.n_feedback) == (1, 2, 4)
    np.testing.assert_array_equal(b2.encode(None), [2.0])
    np.testing.assert_array_equal(b2.feedback(1, False), [0, 0, 0, 0.5])
    np.testing.assert_array_equal(b2.feedback(0, True), [3.0, 0, 0, 0])
    b5 = Bandit5(TaskConfig(name="bandit5", previous_action=True, feedback_routing="outcome"))
    assert (b5.n_inputs, b5.n_outputs, b5.n_feedback) == (6, 5, 2)
    np.testing.assert_array_equal(b5.encode(3), [1, 0, 0, 0, 1, 0])
    np.testing.assert_array_equal(b5.feedback(4, True), [1, 0])
    reversal = CartPoleReversal(TaskConfig(name="cartpole-reversal", observations="pole", step_feedback=0.1))
    np.testing.assert_array_equal(reversal.feedback(1, True), [0, 0, 0, 1.0])
    assert FrozenLake(TaskConfig(name="frozenlake", slippery=False)).env.spec.kwargs["is_slippery"] is False


def test_trials_to_criterion_is_the_first_window_of_ten_with_eight_correct():
    assert trials_to_criterion(np.ones(10)) == 10
    assert trials_to_criterion(np.array([0] * 5 + [1] * 8 + [0] * 20)) == 13
    assert trials_to_criterion(np.array([1, 0] * 30)) is None and trials_to_criterion(np.ones(9)) is None


@pytest.mark.parametrize("data, match", [
    ({"name": "bandit2", "feedback_routing": "arm"}, r"feedback_routing.*'action', 'outcome'.*Got 'arm'"),
    ({"name": "bandit2", "pulls": 5}, r"pulls.*int >= 10.*Got 5"),
    ({"name": "bandit2", "lifetimes": 0}, r"lifetimes.*Got 0"),
    ({"name": "bandit2", "balanced": 1}, r"balanced.*a bool.*Got 1"),
])
def test_task_config_refuses_bad_lifetime_options(data, match):
    with pytest.raises(ConfigError, match=match):
        TaskConfig(**data)


# ------------------------------------------------------------------ ceilings and reference policies

def test_a_policy_that_does_not_learn_scores_50_on_bandit2():
    seeds = lifetime_seeds(11, 300)
    for name in ("random",):
        ev = reference_lifetimes(name, TaskConfig(name="bandit2"), seeds)
        assert within(ev.mean_score, 50.0, ev.sem)
    # a learner whose feedback is off always pulls arm 0 (its outputs tie): a fixed policy
    off = learner_lifetimes(counter_learner(), make_task(TaskConfig(name="bandit2")), seeds[:60], ablation="off")
    assert within(off.mean_score, 50.0, off.sem)


def test_balanced_lifetimes_leave_a_fixed_policy_only_the_rewards_noise():
    seeds, images = balanced_lifetimes(3, 8, 2)
    assert images == [0, 1] * 4 and seeds[0] == seeds[1] != seeds[2]
    task = make_task(TaskConfig(name="bandit2", lifetimes=8, success_feedback=0.0, failure_feedback=0.0))
    report = evaluate_learner(counter_learner(), task, 17, size=10)
    # always arm 0 over 4 swapped pairs: 400 pulls at p = 0.9 and 400 at 0.1 (Bernoulli noise only)
    sem = 100 * np.sqrt(0.9 * 0.1 / 800)
    assert within(report.performance, 50.0, sem) and report.status == "ok"


def test_reference_policies_score_as_expected_on_bandit2():
    seeds = lifetime_seeds(12, 300)
    exact = bayes_optimal_bandit2(100)
    assert exact == pytest.approx(89.375, abs=0.01)
    evs = {name: reference_lifetimes(name, TaskConfig(name="bandit2"), seeds) for name in REFERENCE_POLICIES["bandit2"]}
    assert within(evs["bayes_optimal"].mean_score, exact, evs["bayes_optimal"].sem)
    for name, ev in evs.items():  # nothing beats the Bayes-optimal policy in expectation
        assert ev.mean_score <= exact + 3 * ev.sem, name
    assert evs["thompson"].mean_score > 80 and evs["random"].reached_fraction < 1.0


def test_gittins_matches_the_published_figure_and_leads_the_bandit5_references():
    seeds = lifetime_seeds(13, 300)
    evs = {name: reference_lifetimes(name, TaskConfig(name="bandit5"), seeds) for name in REFERENCE_POLICIES["bandit5"]}
    gittins = evs["gittins"]
    assert within(gittins.mean_score, PUBLISHED["bandit5"]["gittins"], gittins.sem)
    assert within(evs["random"].mean_score, 50.0, evs["random"].sem)
    for name in ("greedy", "ucb1", "thompson"):  # paired on the same draws: the difference's own SEM
        diff = gittins.scores - evs[name].scores
        assert diff.mean() >= -3 * diff.std(ddof=1) / np.sqrt(len(diff)), name


def test_cartpole_reversal_a_memoryless_controller_solves_only_unreversed_lifetimes():
    seeds = lifetime_seeds(14, 40)
    config = TaskConfig(name="cartpole-reversal")
    fixed = reference_lifetimes("fixed", config, seeds)
    switch = reference_lifetimes("switch", config, seeds)
    reversed_ = [CartPoleReversal.reversed(s) for s in seeds]
    solved = [t is not None for t in fixed.to_criterion]
    assert not any(s and r for s, r in zip(solved, reversed_))
    assert fixed.reached_fraction <= 1 - np.mean(reversed_) and fixed.reached_fraction > 0.3
    assert switch.reached_fraction == 1.0 and switch.mean_score == 100.0


@pytest.mark.parametrize("slippery, expected", [(True, 74.4), (False, 100.0)])
def test_frozenlake_value_iteration_ceiling_matches_gymnasium_rollouts(slippery, expected):
    import gymnasium

    values, policy = frozenlake_value_iteration(slippery=slippery, steps=100)
    assert frozenlake_ceiling(slippery=slippery) == pytest.approx(expected, abs=0.05)
    env = gymnasium.make("FrozenLake-v1", map_name="4x4", is_slippery=slippery)  # its own 100-step limit
    n, wins = 1000 if slippery else 20, 0
    for episode in range(n):
        state, _ = env.reset(seed=episode)
        for left in range(100, 0, -1):
            state, reward, terminated, truncated, _ = env.step(int(policy[left, state]))
            if terminated or truncated:
                break
        wins += reward > 0
    p = values[100, 0]
    assert within(wins / n, p, np.sqrt(p * (1 - p) / n) or 1e-12)


# ------------------------------------------------------------------ ablations

def test_feedback_off_gives_the_actions_of_a_zero_feedback_learner():
    seeds = lifetime_seeds(21, 6)
    config = TaskConfig(name="bandit2", pulls=30)
    off_learner, zero_learner = counter_learner(), counter_learner()
    off = learner_lifetimes(off_learner, make_task(config), seeds, ablation="off")
    zero = learner_lifetimes(zero_learner, make_task(dataclasses.replace(config, success_feedback=0.0,
                                                                         failure_feedback=0.0)), seeds)
    np.testing.assert_array_equal(off.curves, zero.curves)
    assert off.to_criterion == zero.to_criterion
    assert off_learner.learned_state() == zero_learner.learned_state()
    # what the task handed out is still recorded (the donors of a shuffled run)
    assert sum(len(f) for f in off.feedback) == 6 * 30 and all(f.sum() > 0 for f in off.feedback)


class _LoggingLearner(EplLearner):
    """A real learner that also keeps every feedback vector it was given."""

    def feed_back(self, amounts):
        self.given = getattr(self, "given", []) + [np.asarray(amounts, float).copy()]
        return super().feed_back(amounts)


def test_shuffled_replays_another_lifetimes_feedback_in_order():
    task = make_task(TaskConfig(name="bandit2", pulls=20))
    seeds = lifetime_seeds(22, 3)
    lrn = _LoggingLearner(Engine(Model.from_antimony(COUNTER)), ("cue",), ("o0", "o1"), ("s0", "f0", "s1", "f1"),
                          LearnerOptions(active="mean"))
    none = learner_lifetimes(lrn, task, seeds)
    donors = donor_sequences(none)
    lrn.given = []
    shuffled = learner_lifetimes(lrn, task, seeds, ablation="shuffled", donors=donors, initial=None)
    given = np.array(lrn.given).reshape(3, 20, 4)
    for i in range(3):
        np.testing.assert_array_equal(given[i], none.feedback[(i + 1) % 3])
    assert shuffled.feedback[0].shape == (20, 4)
    with pytest.raises(InvalidValueError, match="donor"):
        AblatedLearner(lrn, "shuffled", LifetimeStart.of(lrn))
    with pytest.raises(InvalidValueError, match="at least 2 lifetimes"):
        learner_lifetimes(lrn, task, seeds[:1], ablation="shuffled")


def test_a_learner_that_learns_loses_its_advantage_under_every_ablation():
    task = make_task(TaskConfig(name="bandit2", pulls=50))
    seeds = lifetime_seeds(23, 24)
    evs = evaluate_ablations(counter_learner(), task, seeds)
    assert list(evs) == list(ABLATIONS)
    learned = evs["none"]
    assert learned.mean_score > 80 and learned.reached_fraction > 0.9
    for name in ("off", "shuffled", "reset"):
        ev = evs[name]
        assert within(ev.mean_score, 50.0, ev.sem), name
        assert learned.mean_score - ev.mean_score > 3 * np.hypot(learned.sem, ev.sem), name
    # reset: every step starts from z*_init, so the learner always answers as it did at first (arm 0: o0 starts
    # 0.001 above o1, so the first answer does not hang on how the solver rounds an exact tie)
    first_arm = [100 * float(np.mean(task.draw(s)[1][:50, 0] < task.draw(s)[0][0])) for s in seeds]
    np.testing.assert_allclose(evs["reset"].scores, first_arm)


def test_held_out_seeds_skip_the_seeds_evolution_used():
    seeds, skipped = held_out_seeds(0, 5)
    assert skipped == 0 and seeds == lifetime_seeds(0, 5)
    again, skipped = held_out_seeds(0, 5, used={seeds[1], seeds[3]})
    assert skipped == 2 and seeds[1] not in again and seeds[3] not in again and len(again) == 5


def test_a_classic_tasks_lifetime_is_its_fitness_evaluation():
    from test_tasks import cross_learner

    task = make_task(TaskConfig(observations="pole", epochs=2, eval_episodes=2))
    report = evaluate_learner(cross_learner(), task, 31, size=18)
    lrn = cross_learner()
    lrn.initialise()
    life = task.run_lifetime(lrn, 31)
    assert life.score == report.performance and list(life.curve) == list(report.epoch_scores)


# ------------------------------------------------------------------ the job and the evaluate command

@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    from epl_sysbio.cli import main

    out = tmp_path_factory.mktemp("lifetime") / "run"
    assert main(["evolve", "--preset", "lifetime-smoke", "--out", str(out)]) == 0
    return out


def test_a_lifetime_preset_runs_end_to_end_with_ablations_and_learning_curves(smoke_run):
    import csv
    import json

    rows = list(csv.DictReader((smoke_run / "ablations.csv").open()))
    assert [r["agent"] for r in rows] == ["champion", "off", "shuffled", "reset", *REFERENCE_POLICIES["bandit2"]]
    assert all(int(r["lifetimes"]) == 4 for r in rows)
    assert (smoke_run / "plots" / "learning_curves.png").stat().st_size > 10_000
    log = list(csv.DictReader((smoke_run / "logbook.csv").open()))
    assert len(log) == 2 and {"best_learning_speed", "mean_learning_speed"} <= set(log[0])
    summary = json.loads((smoke_run / "summary.json").read_text())
    assert summary["task"] == "bandit2" and "learning_speed_reduction_pct_per_gen" in summary
    assert summary["held_out_lifetimes"] == 4 and float(rows[0]["mean_score"]) == summary["held_out_none_score"]


def test_evaluate_scores_the_champion_on_fresh_lifetimes(smoke_run, capsys):
    import json

    from epl_sysbio.cli import main

    assert main(["evaluate", str(smoke_run), "--lifetimes", "6", "--seed", "5", "--ablation", "shuffled",
                 "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"task", "lifetimes", "mean_score", "sem", "ablation"} <= set(result)
    assert result["task"] == "bandit2" and result["lifetimes"] == 6 and result["ablation"] == "shuffled"
    assert 0 <= result["mean_score"] <= 100 and result["sem"] >= 0
    assert main(["evaluate", str(smoke_run), "--lifetimes", "4"]) == 0
    assert "mean score" in capsys.readouterr().out
    assert main(["evaluate", str(smoke_run), "--task", "bandit9"]) == 2
    assert "bandit2" in capsys.readouterr().err
    assert main(["evaluate", str(smoke_run / "nothing")]) == 2
    assert "not a finished run directory" in capsys.readouterr().err


#: Irreversible a -> d and a + b -> c: injected a is gone before a later b arrives, so the order matters.
ORDERED = """
model ordered
  compartment c = 1
  species a in c, b in c, x in c, d in c, y in c
  R1: a + b -> x; k*a*b
  R2: a -> d; k*a
  R3: y -> ; y
  k = 2
  a = 0; b = 0; x = 0; d = 0; y = 1
end
"""


def test_order_dependence_tells_a_function_of_sums_from_history():
    from epl_sysbio.epl.ablations import order_dependence

    feedback = np.array([[1.0, 0, 0, 0], [0, 0, 0.5, 0], [0, 1.0, 0, 0], [0, 0, 0, 1.0]] * 3)
    assert order_dependence(counter_learner(), feedback) < 1e-6
    lrn = EplLearner(Engine(Model.from_antimony(ORDERED)), ("y",), ("x", "d"), ("a", "b"),
                     LearnerOptions(settle="time_course"))
    assert order_dependence(lrn, np.array([[1.0, 0.0], [0.0, 1.0]])) > 0.1
