"""Fitness of an EPL learner: performance after learning, learning speed, and size.

The formula (also in docs/epl.md)::

    fitness = clip(performance - speed_weight * speed_cost - size_weight * size_cost, 0, 100)

    performance = mean score of ``eval_episodes`` evaluation epochs run after
                  ``epochs`` learning epochs (scores in [0, 100]: CartPole
                  return / 500 * 100, FrozenLake success rate * 100, XOR
                  accuracy * 100, regression 100 * max(0, 1 - RMSE / std(y)))
    speed_cost  = steps_to_goal / max_learning_steps, or 1 if no learning epoch
                  reached the goal (steps_to_goal: learning steps, i.e. feedback
                  injections, up to the end of the first epoch scoring >= goal;
                  max_learning_steps = epochs * the task's longest epoch)
    size_cost   = min(1, (nodes + edges) / size_reference)

Lifetime tasks (:mod:`.lifetime_tasks`: bandits, cartpole-reversal) use the
same formula over ``lifetimes`` lifetimes, each from the initial equilibrium
(seeds ``derive_seed(seed, 2, i)``, or with ``balanced`` the images of each
draw in turn, :func:`.ablations.balanced_lifetimes`)::

    performance = mean lifetime score (bandits: 100 * reward / pulls;
                  cartpole-reversal: 100 * min(1, best return / 475))
    speed_cost  = learning_speed / (trials + 1), learning_speed the mean trials
                  to the task's criterion (censored at trials + 1, see .ablations)

and the report's ``steps_to_goal`` is the learning speed if at least half of
the lifetimes met the criterion, else None.

With the default weights (0.5 each) the two costs take at most one point off a
perfect 100, so a learner that masters the task always scores >= 99. A learner
whose state diverged or failed to relax gets 0, the worst fitness, and the
reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from epl_sysbio.errors import ConfigError, Interval, validate_fields

from epl_sysbio.seeds import derive_seed

from .learner import EplLearner
from .lifetime_tasks import LifetimeTask
from .tasks import Task

__all__ = ["FitnessWeights", "LearnerReport", "fitness_value", "evaluate_learner", "WORST_FITNESS"]

#: The fitness of a learner that was stopped (diverged, failed, did not relax, or too small).
WORST_FITNESS = 0.0


_WEIGHTS_PARAMETERS = {
    "speed_weight": Interval((int, float), 0, None, closed="left"),
    "size_weight": Interval((int, float), 0, None, closed="left"),
    "size_reference": Interval((int, float), 0, None, closed="neither"),
}


@dataclass(frozen=True, kw_only=True)
class FitnessWeights:
    """Weights of the fitness formula (module docstring)."""

    speed_weight: float = 0.5
    size_weight: float = 0.5
    size_reference: float = 100.0

    def __post_init__(self) -> None:
        validate_fields(self, _WEIGHTS_PARAMETERS, error=ConfigError)


def fitness_value(performance: float, steps_to_goal: int | None, max_learning_steps: int, size: int,
                  weights: FitnessWeights) -> float:
    """The fitness formula of the module docstring."""
    speed_cost = 1.0 if steps_to_goal is None else steps_to_goal / max_learning_steps
    size_cost = min(1.0, size / weights.size_reference)
    value = performance - weights.speed_weight * speed_cost - weights.size_weight * size_cost
    return float(min(100.0, max(0.0, value)))


@dataclass(frozen=True)
class LearnerReport:
    """Everything one evaluation measured.

    ``epoch_scores`` are the learning epochs' scores, ``eval_scores`` the
    evaluation epochs'; ``learning_steps`` the feedback injections made while
    learning; ``model_time`` the model time spent in response relaxations
    (and time-course settles); ``relaxations`` counts how relaxations ended,
    by ``"<kind>:<how>"``. Lifetime tasks: ``epoch_scores`` are the lifetime
    scores, ``learning_speed`` the mean trials to criterion and ``curve`` the
    mean learning curve (score by trial index); None and () for the others.
    """

    fitness: float
    performance: float
    epoch_scores: tuple[float, ...]
    eval_scores: tuple[float, ...]
    steps_to_goal: float | None
    learning_steps: int
    size: int
    status: str
    message: str = ""
    model_time: float = 0.0
    relaxations: dict[str, int] = field(default_factory=dict)
    learning_speed: float | None = None
    curve: tuple[float, ...] = ()

    @property
    def reached_goal(self) -> bool:
        return self.steps_to_goal is not None

    @classmethod
    def from_dict(cls, data: dict) -> LearnerReport:
        """Inverse of :meth:`to_dict`."""
        return cls(**{**data, "epoch_scores": tuple(data["epoch_scores"]), "eval_scores": tuple(data["eval_scores"]),
                      "curve": tuple(data.get("curve", ()))})

    def to_dict(self) -> dict:
        return {
            "fitness": self.fitness, "performance": self.performance, "epoch_scores": list(self.epoch_scores),
            "eval_scores": list(self.eval_scores), "steps_to_goal": self.steps_to_goal,
            "learning_steps": self.learning_steps, "size": self.size, "status": self.status,
            "message": self.message, "model_time": self.model_time, "relaxations": dict(self.relaxations),
            "learning_speed": self.learning_speed, "curve": list(self.curve),
        }


def evaluate_learner(learner: EplLearner, task: Task, seed: int, *, size: int,
                     weights: FitnessWeights | None = None, traces: list | None = None) -> LearnerReport:
    """Train ``learner`` for ``task.config.epochs`` epochs, evaluate it, and score it.

    Parameters
    ----------
    learner : EplLearner
        Fresh (not yet initialised) learner; it is initialised here.
    task : Task
    seed : int
        Evaluation seed; epoch ``e`` of phase ``p`` (0 learning, 1 evaluation)
        uses ``derive_seed(seed, p, e)``.
    size : int
        Nodes + edges of the network (for the size cost).
    traces : list, optional
        Receives the response trace of every learning step.
    """
    weights = weights or FitnessWeights()
    if isinstance(task, LifetimeTask):
        return _evaluate_lifetimes(learner, task, seed, size, weights, traces)
    cfg = task.config
    max_steps = cfg.epochs * task.max_epoch_steps
    scores: list[float] = []
    evals: list[float] = []
    steps, to_goal = 0, None
    learner.initialise()
    for e in range(cfg.epochs):
        if not learner.ok:
            break
        result = task.run_epoch(learner, derive_seed(seed, 0, e), learn=True, traces=traces)
        steps += result.steps
        scores.append(result.score)
        if to_goal is None and learner.ok and result.score >= cfg.goal:
            to_goal = steps
    for k in range(cfg.eval_episodes):
        if not learner.ok:
            break
        evals.append(task.run_epoch(learner, derive_seed(seed, 1, k), learn=False).score)
    common = dict(epoch_scores=tuple(scores), eval_scores=tuple(evals), learning_steps=steps, size=size,
                  status=learner.status, message=learner.message, model_time=learner.model_time,
                  relaxations=dict(sorted(learner.relaxations.items())))
    if not learner.ok:
        return LearnerReport(fitness=WORST_FITNESS, performance=0.0, steps_to_goal=None, **common)
    performance = float(sum(evals) / len(evals))
    return LearnerReport(fitness=fitness_value(performance, to_goal, max_steps, size, weights),
                         performance=performance, steps_to_goal=to_goal, **common)


def _evaluate_lifetimes(learner: EplLearner, task: LifetimeTask, seed: int, size: int, weights: FitnessWeights,
                        traces: list | None) -> LearnerReport:
    """The lifetime tasks' fitness (module docstring); the first lifetime whose learner stops ends it."""
    from .ablations import balanced_lifetimes, learner_lifetimes, lifetime_seeds

    n = task.config.lifetimes
    seeds, images = balanced_lifetimes(seed, n, task.symmetry) if task.config.balanced else \
        (lifetime_seeds(seed, n), None)
    ev = learner_lifetimes(learner, task, seeds, images=images, stop_on_failure=True, traces=traces)
    common = dict(epoch_scores=tuple(float(x) for x in ev.scores), eval_scores=(), learning_steps=ev.steps,
                  size=size, status=learner.status, message=learner.message, model_time=learner.model_time,
                  relaxations=dict(sorted(learner.relaxations.items())))
    if ev.stopped or not learner.ok:
        return LearnerReport(fitness=WORST_FITNESS, performance=0.0, steps_to_goal=None, **common)
    speed = ev.learning_speed
    return LearnerReport(fitness=fitness_value(ev.mean_score, speed, task.trials + 1, size, weights),
                         performance=ev.mean_score, steps_to_goal=speed if ev.reached_fraction >= 0.5 else None,
                         learning_speed=speed, curve=tuple(float(x) for x in ev.curves.mean(axis=0)), **common)
