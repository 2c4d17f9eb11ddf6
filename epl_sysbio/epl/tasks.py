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

An *epoch* is one episode (control tasks) or one pass over the training set
in a seeded random order (toys). Each epoch has a score in [0, 100]:
CartPole ``return / 500 * 100``, FrozenLake ``100 * reached the goal``, XOR
``100 * accuracy``, regression ``100 * max(0, 1 - RMSE / std(y))``.

Seeds: an epoch's environment seed is ``SeedSequence([seed, phase, epoch])``
with ``seed`` the evaluation seed (itself derived from run seed, generation and
individual by :func:`~epl_sysbio.evolve.evaluation_seed`) and ``phase`` 0 for
learning, 1 for evaluation: fitness is a pure function of (genome, seed).
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass

import numpy as np

from epl_sysbio.errors import ConfigError, check_parameter

from .learner import EplLearner

__all__ = ["TaskConfig", "Task", "EpochResult", "CartPole", "FrozenLake", "Xor", "Regression", "TASKS",
           "make_task", "split_signed", "derive_seed"]


def derive_seed(seed: int, *keys: int) -> int:
    """A 32-bit seed that is a pure function of ``seed`` and ``keys``."""
    return int(np.random.SeedSequence([seed, *keys]).generate_state(1, np.uint32)[0])


def split_signed(values: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """``[v0+, v0-, v1+, v1-, ...] * scale``: a signed vector as twice as many non-negative amounts."""
    v = np.asarray(values, dtype=float) * scale
    out = np.empty(2 * len(v))
    out[0::2] = np.maximum(v, 0.0)
    out[1::2] = np.maximum(-v, 0.0)
    return out


def _real(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


@dataclass(frozen=True, kw_only=True)
class TaskConfig:
    """The task and how a learner is trained and scored on it.

    Attributes
    ----------
    name : {"cartpole", "frozenlake", "xor", "regression"}
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

    def __post_init__(self) -> None:
        own = type(self).__name__
        check_parameter(own, "name", self.name in TASKS, f"one of {sorted(TASKS)}", self.name, error=ConfigError)
        check_parameter(own, "observations", self.observations in ("all", "pole"), "one of ['all', 'pole']",
                        self.observations, error=ConfigError)
        for name in ("epochs", "eval_episodes", "regression_points"):
            v = getattr(self, name)
            check_parameter(own, name, isinstance(v, int) and not isinstance(v, bool) and v >= 1, "an int >= 1", v,
                            error=ConfigError)
        check_parameter(own, "input_scale", _real(self.input_scale) and self.input_scale > 0, "a float in (0, inf)",
                        self.input_scale, error=ConfigError)
        for name in ("step_feedback", "failure_feedback", "success_feedback", "feedback_scale"):
            v = getattr(self, name)
            check_parameter(own, name, _real(v) and v >= 0, "a float in [0, inf)", v, error=ConfigError)
        check_parameter(own, "goal", _real(self.goal) and 0 < self.goal <= 100, "a float in (0, 100]", self.goal,
                        error=ConfigError)


@dataclass(frozen=True)
class EpochResult:
    """One epoch: its score in [0, 100], the learning steps it took, and the learner's status after it."""

    score: float
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
    """gymnasium FrozenLake-v1, 4x4 and slippery (the paper's FrozenLake-v0 default), 100 steps at most."""

    name, env_id = "frozenlake", "FrozenLake-v1"
    env_kwargs = {"map_name": "4x4", "is_slippery": True}
    n_inputs, n_outputs = 4, 4
    max_epoch_steps = 100

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


TASKS: dict[str, type[Task]] = {t.name: t for t in (CartPole, FrozenLake, Xor, Regression)}


def make_task(config: TaskConfig) -> Task:
    """The task ``config.name`` (gymnasium environments are created here, once per task object)."""
    return TASKS[config.name](config)
