"""Tasks an EPL learner learns: gymnasium control tasks and supervised toys.

Every task maps its observations to non-negative injections into the input
nodes, reads its action or prediction from the outputs' ``Active`` values, and
turns the environment's reward or the loss into non-negative injections into
two feedback nodes, ``(reward, penalty)``:

=============  =======  =======  =================================================================
task           inputs   outputs  encoding
=============  =======  =======  =================================================================
cartpole       8 or 4   2        each of the 4 observations (or, with ``observations =
                                 "pole"``, the pole angle and angular velocity only),
                                 divided by its scale (2.4, 2, 0.21, 2), becomes its positive
                                 and negative parts times ``input_scale``; action = argmax of
                                 the 2 outputs;
                                 reward node gets ``step_feedback`` per step survived,
                                 penalty node ``failure_feedback`` when the pole falls
frozenlake     4        4        the cell (row, col) of the 4x4 slippery lake becomes
                                 ``(row, 3 - row, col, 3 - col) / 3 * input_scale``;
                                 action = argmax of the 4 outputs; reward node gets
                                 ``success_feedback`` at the goal, penalty node
                                 ``failure_feedback`` in a hole and ``step_feedback`` per step
xor            2        2        the two bits times ``input_scale``; prediction
                                 ``p = a1 / (a0 + a1)``; error ``e = y - p`` goes as
                                 ``feedback_scale * (e+, e-)``
regression     2        2        ``x`` in [0, 1] as ``(x, 1 - x) * input_scale``, target
                                 ``y = 0.5 + 0.4 sin(2 pi x)``, prediction and feedback as xor
=============  =======  =======  =================================================================

frozenlake's lake is slippery unless ``slippery = false``. The lifetime tasks
``bandit2``, ``bandit5`` and ``cartpole-reversal`` (a hidden variable redrawn
every lifetime) are in :mod:`.lifetime_tasks`; they declare their own
``n_feedback`` (e.g. ``2k`` nodes when the feedback is routed by action).

An *epoch* is one episode (control tasks) or one pass over the training set
in a seeded random order (toys). Each epoch has a score in [0, 100]:
CartPole ``return / 500 * 100``, FrozenLake ``100 * reached the goal``, XOR
``100 * accuracy``, regression ``100 * max(0, 1 - RMSE / std(y))``.

Each task defines the loss its learning steps should descend, for the paper's
Eq. 4 alignment (:mod:`.alignment`): :meth:`Task.alignment_probe` (None for a
task without one, e.g. the lifetime tasks).

Seeds: an epoch's environment seed is ``SeedSequence([seed, phase, epoch])``
with ``seed`` the evaluation seed (itself derived from run seed, generation and
individual by :func:`~epl_sysbio.seeds.derive_seed`) and ``phase`` 0 for
learning, 1 for evaluation: fitness is a pure function of (genome, seed).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from epl_sysbio.errors import ConfigError, InstanceOf, Interval, Options, validate_fields
from epl_sysbio.seeds import derive_seed

from .learner import EplLearner

__all__ = ["TaskConfig", "Task", "AlignmentProbe", "EpochResult", "LifetimeResult", "CartPole", "FrozenLake", "Xor",
           "Regression", "TASK_NAMES", "FEEDBACK_ROUTINGS", "split_signed"]

#: What :meth:`Task.alignment_probe` returns: the probed step's input ``x`` and ``dL/do`` as a function of ``o``.
AlignmentProbe = tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]

#: How a lifetime task routes its feedback: to one node per (action, outcome), or per outcome only.
FEEDBACK_ROUTINGS = ("action", "outcome")


def split_signed(values: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """``[v0+, v0-, v1+, v1-, ...] * scale``: a signed vector as twice as many non-negative amounts."""
    v = np.asarray(values, dtype=float) * scale
    out = np.empty(2 * len(v))
    out[0::2] = np.maximum(v, 0.0)
    out[1::2] = np.maximum(-v, 0.0)
    return out


#: Every task's name (:data:`~.registry.TASKS` maps them to their classes).
TASK_NAMES = ("cartpole", "frozenlake", "xor", "regression", "bandit2", "bandit5", "cartpole-reversal")

_COUNT = Interval(int, 1, None, closed="left")
_NONNEGATIVE = Interval((int, float), 0, None, closed="left")
_TASK_PARAMETERS = {
    "name": Options(*TASK_NAMES), "observations": Options("all", "pole"),
    "feedback_routing": Options(*FEEDBACK_ROUTINGS),
    **{name: InstanceOf(bool) for name in ("slippery", "previous_action", "stop_when_solved", "balanced")},
    "pulls": Interval(int, 10, None, closed="left"),
    **{name: _COUNT for name in ("epochs", "eval_episodes", "regression_points", "lifetimes", "held_out_lifetimes")},
    "input_scale": Interval((int, float), 0, None, closed="neither"),
    **{name: _NONNEGATIVE for name in ("step_feedback", "failure_feedback", "success_feedback", "feedback_scale")},
    "goal": Interval((int, float), 0, 100, closed="right"),
}


@dataclass(frozen=True, kw_only=True)
class TaskConfig:
    """The task and how a learner is trained and scored on it.

    Attributes
    ----------
    name : {"cartpole", "frozenlake", "xor", "regression", "bandit2", "bandit5", "cartpole-reversal"}
    observations : {"all", "pole"}
        CartPole: encode all four observations (8 input nodes) or the pole's
        angle and angular velocity only (4 input nodes).
    epochs : int
        Learning epochs before the evaluation (paper: 10).
    eval_episodes : int
        Evaluation epochs, without feedback, whose mean score is the performance.
    input_scale : float
        Amount injected per unit of encoded observation.
    step_feedback, failure_feedback, success_feedback : float
        Control tasks' feedback amounts (see the module docstring).
    feedback_scale : float
        Supervised toys: amount per unit of error.
    regression_points : int
        Training points of the regression toy (evenly spaced in [0, 1]).
    goal : float
        An epoch scoring at least this has reached the goal (learning speed is
        measured in learning steps until the end of the first such epoch).
    slippery : bool
        FrozenLake: the slippery lake (the paper's FrozenLake-v0 default) or the deterministic one.
    lifetimes : int
        Lifetime tasks: lifetimes per evaluation (each from the initial
        equilibrium, its hidden variable drawn from the evaluation seed);
        the fitness averages their scores. Ignored by the other tasks.
    pulls : int
        Bandits: pulls per lifetime (>= 10, the criterion's window).
    feedback_routing : {"action", "outcome"}
        Lifetime tasks: feedback into one node per (action, outcome) (the
        default: credit for an action needs it, DESIGN.md section 9) or one
        node per outcome.
    previous_action : bool
        Bandits: also inject the previous action, one-hot times
        ``input_scale``, into one input node per arm.
    stop_when_solved : bool
        cartpole-reversal: end a lifetime at its first episode reaching 475
        (the score cannot rise further; the curve stays at 100).
    balanced : bool
        Lifetime tasks: the fitness' lifetimes go through the images of each
        draw in turn (e.g. bandit2's arms swapped in every other lifetime), so
        that fixed policies do not win by the luck of the draw.
    held_out_lifetimes : int
        Lifetime tasks: held-out lifetimes of the run's closing report
        (``ablations.csv``, ``learning_curves.png``).
    """

    name: str = "cartpole"
    observations: str = "all"
    epochs: int = 10
    eval_episodes: int = 3
    input_scale: float = 1.0
    step_feedback: float = 0.01
    failure_feedback: float = 1.0
    success_feedback: float = 1.0
    feedback_scale: float = 1.0
    regression_points: int = 8
    goal: float = 99.0
    slippery: bool = True
    lifetimes: int = 8
    pulls: int = 100
    feedback_routing: str = "action"
    previous_action: bool = False
    stop_when_solved: bool = True
    balanced: bool = True
    held_out_lifetimes: int = 1000

    def __post_init__(self) -> None:
        validate_fields(self, _TASK_PARAMETERS, error=ConfigError)


@dataclass(frozen=True)
class EpochResult:
    """One epoch: its score in [0, 100], the learning steps it took, and the learner's status after it."""

    score: float
    steps: int
    status: str


@dataclass(frozen=True)
class LifetimeResult:
    """One lifetime: one learner (or policy) from its initial state on one draw of the task.

    ``score`` in [0, 100]; ``curve`` the score by trial index (its length is
    fixed per task, see each task's ``curve_label``); ``to_criterion`` the
    trials (1-based) until the learning criterion was first met, None if
    never; ``steps`` the feedback injections made; ``status`` the learner's
    status at the end.
    """

    score: float
    curve: tuple[float, ...]
    to_criterion: int | None
    steps: int
    status: str


class Task(abc.ABC):
    """A task: input/output/feedback node counts and one epoch of interaction with a learner."""

    name: str
    n_inputs: int
    n_outputs: int
    n_feedback: int = 2

    def __init__(self, config: TaskConfig) -> None:
        self.config = config

    @property
    @abc.abstractmethod
    def max_epoch_steps(self) -> int:
        """The most learning steps one epoch can take."""

    @abc.abstractmethod
    def run_epoch(self, learner: EplLearner, seed: int, *, learn: bool, traces: list | None = None) -> EpochResult:
        """Run one epoch; with ``learn`` False no feedback is injected. Response traces go to ``traces``."""

    #: What a lifetime's curve holds, by trial index.
    curve_label = "learning epoch score"

    @property
    def trials(self) -> int:
        """Trials of one lifetime (the unit of learning speed): here learning epochs."""
        return self.config.epochs

    def run_lifetime(self, learner: EplLearner, seed: int, *, traces: list | None = None) -> LifetimeResult:
        """One lifetime of a task without a hidden variable: the fitness' learning and evaluation epochs.

        ``epochs`` learning epochs then ``eval_episodes`` evaluation epochs
        (no feedback), seeds as in :func:`~.fitness.evaluate_learner`; the
        score is the evaluation epochs' mean, the curve the learning epochs'
        scores, the criterion the first learning epoch scoring >= ``goal``.
        """
        cfg = self.config
        curve, steps, to_goal = [], 0, None
        for e in range(cfg.epochs):
            result = self.run_epoch(learner, derive_seed(seed, 0, e), learn=True, traces=traces)
            steps += result.steps
            curve.append(result.score if learner.ok else 0.0)
            if to_goal is None and learner.ok and result.score >= cfg.goal:
                to_goal = e + 1
            if not learner.ok:
                break
        evals = [self.run_epoch(learner, derive_seed(seed, 1, k), learn=False).score
                 for k in range(cfg.eval_episodes) if learner.ok]
        score = float(np.mean(evals)) if learner.ok and evals else 0.0
        curve += [0.0] * (cfg.epochs - len(curve))
        return LifetimeResult(score, tuple(curve), to_goal, steps, learner.status)

    def alignment_probe(self, learner: EplLearner, seed: int) -> AlignmentProbe | None:
        """Take the first learning step of the first learning epoch; return its input and the loss' gradient.

        The step (input, response, feedback) is made on ``learner`` with the
        seeds of :meth:`run_lifetime`; returned are the input ``x`` it
        injected and ``dL/do``, the gradient of the task's loss with respect
        to the outputs' equilibrium concentrations ``o`` (Eq. 4,
        :mod:`.alignment`). None if the task defines no loss (the default,
        e.g. the lifetime tasks) or the learner failed to respond.
        """
        return None

    @staticmethod
    def _respond(learner: EplLearner, x: np.ndarray, traces: list | None) -> np.ndarray | None:
        response = learner.step(x)
        if traces is not None and len(response.trace):
            traces.append(response.trace)
        return response.activity if learner.ok else None


class _GymTask(Task):
    env_id: str
    env_kwargs: dict = {}

    def __init__(self, config: TaskConfig) -> None:
        super().__init__(config)
        import gymnasium

        self.env = gymnasium.make(self.env_id, **self.env_kwargs)

    @abc.abstractmethod
    def encode(self, observation: object) -> np.ndarray:
        """Observation -> non-negative input amounts."""

    @abc.abstractmethod
    def feedback(self, reward: float, terminated: bool) -> np.ndarray:
        """(reward, penalty) amounts after a step."""

    @abc.abstractmethod
    def score(self, total_reward: float) -> float:
        """Episode score in [0, 100]."""

    def run_epoch(self, learner: EplLearner, seed: int, *, learn: bool, traces: list | None = None) -> EpochResult:
        observation, _ = self.env.reset(seed=seed)
        total, steps = 0.0, 0
        while True:
            activity = self._respond(learner, self.encode(observation), traces)
            if activity is None:
                break
            observation, reward, terminated, truncated, _ = self.env.step(int(np.argmax(activity)))
            total += float(reward)
            steps += 1
            if learn:
                learner.feed_back(self.feedback(float(reward), terminated))
            else:
                learner.feed_back(np.zeros(self.n_feedback))
            if terminated or truncated or not learner.ok:
                break
        return EpochResult(self.score(total) if learner.ok else 0.0, steps, learner.status)

    def alignment_probe(self, learner: EplLearner, seed: int) -> AlignmentProbe | None:
        """No target, so the loss is the feedback's verdict: ``L = (penalty - reward) * o_a / sum(o)``.

        ``a`` is the action the learner takes and ``(reward, penalty)`` the
        feedback that step earns: a penalised action should lose its share
        of the outputs, a rewarded one gain it.
        """
        observation, _ = self.env.reset(seed=derive_seed(seed, 0, 0))
        x = self.encode(observation)
        activity = self._respond(learner, x, None)
        if activity is None:
            return None
        action = int(np.argmax(activity))
        _, reward, terminated, _, _ = self.env.step(action)
        feedback = self.feedback(float(reward), terminated)
        learner.feed_back(feedback)
        sign = float(feedback[1] - feedback[0])

        def loss_gradient(o: np.ndarray) -> np.ndarray:  # dL/do_i = sign * (delta_ia - o_a / sum(o)) / sum(o)
            total = float(np.sum(o))
            if total <= 0:
                return np.zeros_like(o)
            g = np.full(len(o), -float(o[action]) / total**2)
            g[action] += 1.0 / total
            return sign * g

        return x, loss_gradient


class CartPole(_GymTask):
    """gymnasium CartPole-v1 (500 steps at most)."""

    name, env_id = "cartpole", "CartPole-v1"
    n_outputs = 2
    max_epoch_steps = 500
    SCALES = np.array([2.4, 2.0, 0.21, 2.0])

    def __init__(self, config: TaskConfig) -> None:
        super().__init__(config)
        self.observed = slice(0, 4) if config.observations == "all" else slice(2, 4)
        self.n_inputs = 8 if config.observations == "all" else 4

    def encode(self, observation: object) -> np.ndarray:
        scaled = np.asarray(observation)[self.observed] / self.SCALES[self.observed]
        return split_signed(scaled, self.config.input_scale)

    def feedback(self, reward: float, terminated: bool) -> np.ndarray:
        c = self.config
        return np.array([0.0 if terminated else c.step_feedback, c.failure_feedback if terminated else 0.0])

    def score(self, total_reward: float) -> float:
        return total_reward / 500.0 * 100.0


class FrozenLake(_GymTask):
    """gymnasium FrozenLake-v1, 4x4, slippery (the paper's FrozenLake-v0 default) unless configured, 100 steps at most."""

    name, env_id = "frozenlake", "FrozenLake-v1"
    n_inputs, n_outputs = 4, 4
    max_epoch_steps = 100

    def __init__(self, config: TaskConfig) -> None:
        self.env_kwargs = {"map_name": "4x4", "is_slippery": config.slippery}
        super().__init__(config)

    def encode(self, observation: object) -> np.ndarray:
        row, col = divmod(int(observation), 4)
        return np.array([row, 3 - row, col, 3 - col], dtype=float) / 3.0 * self.config.input_scale

    def feedback(self, reward: float, terminated: bool) -> np.ndarray:
        c = self.config
        if reward > 0:
            return np.array([c.success_feedback, 0.0])
        return np.array([0.0, c.failure_feedback if terminated else c.step_feedback])

    def score(self, total_reward: float) -> float:
        return 100.0 * float(total_reward > 0)


class _SupervisedTask(Task):
    n_inputs, n_outputs = 2, 2

    @abc.abstractmethod
    def samples(self) -> tuple[np.ndarray, np.ndarray]:
        """Training inputs (n, 2) as injection amounts and targets (n,) in [0, 1]."""

    @abc.abstractmethod
    def score(self, predictions: np.ndarray, targets: np.ndarray) -> float:
        """Epoch score in [0, 100]."""

    @property
    def max_epoch_steps(self) -> int:
        return len(self.samples()[1])

    @staticmethod
    def predict(activity: np.ndarray) -> float:
        """``a1 / (a0 + a1)`` (0.5 when both are 0)."""
        total = float(activity[0] + activity[1])
        return 0.5 if total <= 0 else float(activity[1]) / total

    def error_feedback(self, error: float) -> np.ndarray:
        return split_signed(np.array([error]), self.config.feedback_scale)

    def run_epoch(self, learner: EplLearner, seed: int, *, learn: bool, traces: list | None = None) -> EpochResult:
        x, y = self.samples()
        order = np.random.default_rng(seed).permutation(len(y))
        predictions = np.full(len(y), np.nan)
        for i in order:
            activity = self._respond(learner, x[i], traces)
            if activity is None:
                return EpochResult(0.0, int(np.count_nonzero(np.isfinite(predictions))), learner.status)
            predictions[i] = self.predict(activity)
            error = y[i] - predictions[i] if learn else 0.0
            learner.feed_back(self.error_feedback(error))
            if not learner.ok:
                return EpochResult(0.0, int(np.count_nonzero(np.isfinite(predictions))), learner.status)
        return EpochResult(self.score(predictions, y), len(y), learner.status)

    def alignment_probe(self, learner: EplLearner, seed: int) -> AlignmentProbe | None:
        """``L = (p - y)^2 / 2``, ``p = o1 / (o0 + o1)``, on the first training sample of the first learning epoch."""
        x, y = self.samples()
        i = int(np.random.default_rng(derive_seed(seed, 0, 0)).permutation(len(y))[0])
        activity = self._respond(learner, x[i], None)
        if activity is None:
            return None
        target = float(y[i])
        learner.feed_back(self.error_feedback(target - self.predict(activity)))

        def loss_gradient(o: np.ndarray) -> np.ndarray:  # dL/do = (p - y) (-o1, o0) / (o0 + o1)^2
            total = float(o[0] + o[1])
            if total <= 0:
                return np.zeros_like(o)
            return (self.predict(o) - target) * np.array([-o[1], o[0]]) / total**2

        return x[i], loss_gradient


class Xor(_SupervisedTask):
    """XOR of two bits; a prediction above 0.5 means 1."""

    name = "xor"

    def samples(self) -> tuple[np.ndarray, np.ndarray]:
        x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
        return x * self.config.input_scale, np.array([0.0, 1.0, 1.0, 0.0])

    def score(self, predictions: np.ndarray, targets: np.ndarray) -> float:
        return 100.0 * float(np.mean((predictions > 0.5) == (targets > 0.5)))


class Regression(_SupervisedTask):
    """``y = 0.5 + 0.4 sin(2 pi x)`` on evenly spaced points of [0, 1]."""

    name = "regression"

    def samples(self) -> tuple[np.ndarray, np.ndarray]:
        x = np.linspace(0.0, 1.0, self.config.regression_points)
        return np.column_stack([x, 1.0 - x]) * self.config.input_scale, 0.5 + 0.4 * np.sin(2 * np.pi * x)

    def score(self, predictions: np.ndarray, targets: np.ndarray) -> float:
        rmse = float(np.sqrt(np.mean((predictions - targets) ** 2)))
        return 100.0 * max(0.0, 1.0 - rmse / float(np.std(targets)))


# The lifetime tasks subclass Task, so their module comes after it; both kinds share one registry.
