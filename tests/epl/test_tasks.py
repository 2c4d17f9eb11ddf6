"""Tasks, encoders, seeds and the fitness formula, on a hand-written two-output network."""

from __future__ import annotations

import numpy as np
import pytest

from epl_sysbio.epl.fitness import FitnessWeights, evaluate_learner, fitness_value
from epl_sysbio.epl.learner import EplLearner, LearnerOptions
from epl_sysbio.epl.lifetime_tasks import LIFETIME_TASKS
from epl_sysbio.seeds import derive_seed
from epl_sysbio.epl.registry import make_task
from epl_sysbio.epl.tasks import CartPole, FrozenLake, Regression, TaskConfig, Xor, split_signed
from epl_sysbio.errors import ConfigError
from epl_sysbio.model import Model
from epl_sysbio.simulate import Engine

#: Four inputs feed two outputs crosswise (i0, i2 -> o1; i1, i3 -> o0); f0/f1 feedback pools slow o0/o1.
CROSS = """
model cross
  compartment c = 1
  species i0 in c, i1 in c, i2 in c, i3 in c, o0 in c, o1 in c, f0 in c, f1 in c, g0 in c, g1 in c
  R0: i0 -> o1; k*i0 - k*o1
  R1: i1 -> o0; k*i1 - k*o0
  R2: i2 -> o1; k*i2 - k*o1
  R3: i3 -> o0; k*i3 - k*o0
  F0: f0 + o0 -> g0; k*f0*o0 - k*g0
  F1: f1 + o1 -> g1; k*f1*o1 - k*g1
  D0: o0 -> ; h*(o0 - 0.5)
  D1: o1 -> ; h*(o1 - 0.5)
  k = 2; h = 1
  i0 = 0.5; i1 = 0.5; i2 = 0.5; i3 = 0.5; o0 = 0.5; o1 = 0.5; f0 = 0.1; f1 = 0.1; g0 = 0.1; g1 = 0.1
end
"""


def cross_learner(n_inputs: int = 4, *, wrong_way: bool = True) -> EplLearner:
    """On CartPole ("pole" observations) the crosswise wiring pushes the cart the wrong way (episodes of ~10
    steps, fast tests) unless ``wrong_way`` is False, which balances the pole for long."""
    inputs = ("i0", "i1", "i2", "i3")[:n_inputs]
    outputs = ("o1", "o0") if wrong_way else ("o0", "o1")
    return EplLearner(Engine(Model.from_antimony(CROSS)), inputs, outputs, ("f0", "f1"), LearnerOptions())



class _Recorder:
    """A learner that records its responses' activities and its feedback (the rest is the real learner's)."""

    def __init__(self, learner: EplLearner) -> None:
        self._learner, self.activities, self.feedback = learner, [], []

    def __getattr__(self, name: str):
        return getattr(self._learner, name)

    def step(self, x):
        response = self._learner.step(x)
        self.activities.append(response.activity)
        return response

    def feed_back(self, amounts) -> str:
        self.feedback.append(np.asarray(amounts))
        return self._learner.feed_back(amounts)

def test_split_signed_makes_non_negative_pairs():
    np.testing.assert_array_equal(split_signed(np.array([1.5, -2.0, 0.0]), 2.0), [3.0, 0.0, 0.0, 4.0, 0.0, 0.0])


def test_derive_seed_is_pure_and_distinct():
    assert derive_seed(3, 0, 1) == derive_seed(3, 0, 1)
    assert len({derive_seed(3, p, e) for p in (0, 1) for e in range(10)}) == 20


def test_cartpole_encoding_and_feedback():
    task = CartPole(TaskConfig(observations="pole", input_scale=2.0, step_feedback=0.1, failure_feedback=3.0))
    assert task.n_inputs == 4
    np.testing.assert_allclose(task.encode([9.0, 9.0, -0.105, 1.0]), [0.0, 1.0, 1.0, 0.0])
    assert CartPole(TaskConfig()).n_inputs == 8
    np.testing.assert_array_equal(task.feedback(1.0, False), [0.1, 0.0])
    np.testing.assert_array_equal(task.feedback(1.0, True), [0.0, 3.0])
    assert task.score(500.0) == 100.0


def test_frozenlake_is_slippery_4x4_and_encodes_the_cell():
    task = FrozenLake(TaskConfig(name="frozenlake"))
    assert task.env.spec.kwargs["is_slippery"] is True and task.env.spec.kwargs["map_name"] == "4x4"
    np.testing.assert_allclose(task.encode(6), [1 / 3, 2 / 3, 2 / 3, 1 / 3])
    assert task.score(1.0) == 100.0 and task.score(0.0) == 0.0


def test_cartpole_epoch_is_reproducible_from_its_seed_and_learning_changes_the_state():
    task = make_task(TaskConfig(observations="pole"))
    runs = []
    for _ in range(2):
        lrn = cross_learner()
        lrn.initialise()
        runs.append((task.run_epoch(lrn, 1234, learn=True), lrn.learned_state()))
    (a, za), (b, zb) = runs
    assert a == b and 5 < a.steps < 30 and a.status == "ok"
    assert za == zb
    # the first episode's feedback moved the learned state (f pools took up the injected amounts)
    lrn = cross_learner()
    lrn.initialise()
    z0 = lrn.learned_state()
    task.run_epoch(lrn, 1234, learn=True)
    z1 = lrn.learned_state()
    # f + g is a conserved moiety: each pool grew by exactly what was injected into it
    assert z1["f1"] + z1["g1"] == pytest.approx(z0["f1"] + z0["g1"] + 1.0, rel=1e-9)  # one failure
    assert z1["f0"] + z1["g0"] == pytest.approx(z0["f0"] + z0["g0"] + 0.01 * (a.steps - 1), rel=1e-9)


def test_evaluation_epochs_inject_no_feedback():
    task = make_task(TaskConfig(observations="pole"))
    lrn = cross_learner()
    lrn.initialise()
    z0 = lrn.learned_state()
    task.run_epoch(lrn, 7, learn=False)
    z1 = lrn.learned_state()
    assert z1["f0"] + z1["g0"] == pytest.approx(z0["f0"] + z0["g0"], rel=1e-9)
    assert z1["f1"] + z1["g1"] == pytest.approx(z0["f1"] + z0["g1"], rel=1e-9)


@pytest.mark.parametrize("cls", [Xor, Regression])
def test_supervised_toys_score_every_sample_and_feed_back_when_learning(cls):
    # The hand-wired cross learner is a CartPole fixture: it does not get better at these toys (its score
    # stays flat over epochs, measured), so this checks the epoch and that learning moves the state.
    task = cls(TaskConfig(name=cls.name, regression_points=5))
    x, y = task.samples()
    assert x.shape == (len(y), 2) and np.all(x >= 0) and np.all((0 <= y) & (y <= 1))
    assert task.max_epoch_steps == len(y)
    states = {}
    for learn in (True, False):
        lrn = cross_learner(n_inputs=2)
        lrn.initialise()
        result = task.run_epoch(lrn, 11, learn=learn)
        assert result.status == "ok" and result.steps == len(y) and 0.0 <= result.score <= 100.0
        states[learn] = lrn.learned_state()
    # feedback after each sample moved the learned state (0.67 on xor, 0.44 on regression, measured)
    assert max(abs(states[True][s] - states[False][s]) for s in states[True]) > 0.1


@pytest.mark.parametrize("name", ["cartpole", "xor", "regression"])
def test_alignment_probe_is_one_learning_step_and_the_gradient_of_the_documented_loss(name):
    task = make_task(TaskConfig(name=name, observations="pole"))
    learner = _Recorder(cross_learner(task.n_inputs))
    assert learner.initialise() == "ok", learner.message
    x, loss_gradient = task.alignment_probe(learner, 3)
    assert len(learner.activities) == len(learner.feedback) == 1
    activity, feedback = learner.activities[0], learner.feedback[0]
    if name == "cartpole":
        observation, _ = task.env.reset(seed=derive_seed(3, 0, 0))
        np.testing.assert_array_equal(x, task.encode(observation))
        action = int(np.argmax(activity))

        def loss(o):  # (penalty - reward) * o_a / sum(o)
            return (feedback[1] - feedback[0]) * o[action] / o.sum()
    else:
        xs, ys = task.samples()
        y = ys[[np.array_equal(row, x) for row in xs].index(True)]
        np.testing.assert_array_equal(feedback, task.error_feedback(y - task.predict(activity)))

        def loss(o):  # (p - y)^2 / 2
            return 0.5 * (task.predict(o) - y) ** 2
    o, h = np.array([0.7, 1.3]), 1e-6
    central = [(loss(o + h * e) - loss(o - h * e)) / (2 * h) for e in np.eye(2)]
    assert np.any(np.abs(central) > 1e-4)
    np.testing.assert_allclose(loss_gradient(o), central, rtol=1e-6)


@pytest.mark.parametrize("name", LIFETIME_TASKS)
def test_lifetime_tasks_define_no_alignment_loss_and_leave_the_learner_alone(name):
    task = make_task(TaskConfig(name=name, feedback_routing="outcome"))
    learner = _Recorder(cross_learner())
    assert learner.initialise() == "ok", learner.message
    assert task.alignment_probe(learner, 3) is None
    assert learner.activities == learner.feedback == []

def test_supervised_scores():
    xor = Xor(TaskConfig(name="xor"))
    assert xor.score(np.array([0.1, 0.9, 0.8, 0.2]), np.array([0, 1, 1, 0.0])) == 100.0
    assert xor.score(np.array([0.9, 0.9, 0.8, 0.2]), np.array([0, 1, 1, 0.0])) == 75.0
    reg = Regression(TaskConfig(name="regression"))
    _, y = reg.samples()
    assert reg.score(y, y) == 100.0
    assert reg.score(np.full_like(y, y.mean()), y) == pytest.approx(0.0, abs=1e-12)
    assert Xor.predict(np.array([1.0, 3.0])) == 0.75 and Xor.predict(np.zeros(2)) == 0.5


def test_fitness_formula():
    w = FitnessWeights(speed_weight=0.5, size_weight=0.5, size_reference=100)
    assert fitness_value(100.0, 500, 5000, 40, w) == pytest.approx(100 - 0.05 - 0.2)
    assert fitness_value(100.0, None, 5000, 40, w) == pytest.approx(100 - 0.5 - 0.2)
    assert fitness_value(100.0, 5000, 5000, 400, w) == pytest.approx(99.0)  # a perfect learner always >= 99
    assert fitness_value(0.0, None, 5000, 400, w) == 0.0  # clipped at the worst fitness


def test_a_good_wiring_balances_longer_than_a_bad_one():
    task = make_task(TaskConfig(observations="pole"))
    scores = []
    for wrong in (True, False):
        lrn = cross_learner(wrong_way=wrong)
        lrn.initialise()
        scores.append(task.run_epoch(lrn, 5, learn=False).score)
    assert scores[1] > 3 * scores[0]


def test_evaluate_learner_counts_epochs_and_is_reproducible():
    task = make_task(TaskConfig(observations="pole", epochs=3, eval_episodes=2))
    reports = [evaluate_learner(cross_learner(), task, 99, size=18) for _ in range(2)]
    assert reports[0] == reports[1]
    r = reports[0]
    assert len(r.epoch_scores) == 3 and len(r.eval_scores) == 2 and r.status == "ok"
    assert r.performance == pytest.approx(np.mean(r.eval_scores))
    assert r.learning_steps == round(sum(r.epoch_scores) * 5)  # CartPole: score = steps / 500 * 100
    assert r.fitness == pytest.approx(fitness_value(r.performance, r.steps_to_goal, 3 * 500, 18, FitnessWeights()))


def test_a_stopped_learner_gets_the_worst_fitness():
    text = """
    compartment c = 1
    species A in c, B in c, C in c, D in c, E in c, F in c
    J1: -> A; 1
    J2: A -> B; A
    A = 1
    """
    lrn = EplLearner(Engine(Model.from_antimony(text)), ["A", "B", "C", "D"], ["E", "F"], ["E", "F"],
                     LearnerOptions(settle="time_course", settle_t_max=10.0))
    report = evaluate_learner(lrn, make_task(TaskConfig(observations="pole")), 1, size=6)
    assert report.fitness == 0.0 and report.status == "not_relaxed" and "time cap" in report.message


def test_task_config_refuses_bad_values():
    with pytest.raises(ConfigError, match="'name'.*'cartpol'"):
        TaskConfig(name="cartpol")
    with pytest.raises(ConfigError, match="epochs"):
        TaskConfig(epochs=0)
    with pytest.raises(ConfigError, match="failure_feedback"):
        TaskConfig(failure_feedback=-1.0)
