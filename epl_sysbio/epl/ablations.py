"""Lifetimes and ablations: does a learner's advantage come from what it learns within a lifetime?

A *lifetime* is one learner from its initial relaxed state ``z*_init`` on one
draw of the task (:meth:`Task.run_lifetime`); between lifetimes the learner
is restored to ``z*_init`` and the status it had there (:class:`LifetimeStart`,
through :meth:`EplLearner.restore`). An evaluation runs
the lifetimes of a list of seeds and reports the mean score, its standard
error, the within-lifetime learning curve and the learning speed.

Ablations (the same network, the same seeds):

=========  =====================================================================
none       the learner as it is
off        every feedback amount 0 (identical to a learner configured with zero
           feedback amounts; the relaxation after the feedback still happens)
shuffled   the feedback sequence recorded in another lifetime (lifetime
           ``i + 1 mod n`` of the unablated evaluation on the same seeds),
           replayed in order, one injection per feedback call (cycling if the
           donor's sequence is shorter): the same statistics, the contingency
           between action and feedback broken
reset      the learned state restored to ``z*_init`` before every step (the
           feedback is then irrelevant and is not injected): the network as a
           memoryless policy of its current input
=========  =====================================================================

Learning speed of an evaluation: the mean over lifetimes of the trials to the
task's criterion, a lifetime that never met it counting as ``trials + 1``
(censored). An evaluation *reached the criterion* if at least half of its
lifetimes met it.

Seeds: lifetime ``i`` of an evaluation with seed ``s`` has seed
``derive_seed(s, 2, i)`` (:func:`lifetime_seeds`); :func:`held_out_seeds`
drops any seed a run used during evolution. Balanced lifetimes
(:func:`balanced_lifetimes`, the fitness' default) take the images of each
draw in turn: lifetime ``i`` has seed ``derive_seed(s, 2, i // m)`` and image
``i % m``, ``m`` the task's symmetry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from epl_sysbio.errors import InvalidValueError

from epl_sysbio.seeds import derive_seed

from .learner import EplLearner
from .tasks import LifetimeResult, Task

__all__ = ["ABLATIONS", "LifetimeStart", "LifetimeEvaluation", "AblatedLearner", "run_lifetimes", "learner_lifetimes",
           "evaluate_ablations", "donor_sequences", "balanced_lifetimes", "order_dependence", "lifetime_seeds", "held_out_seeds", "LIFETIME_PHASE"]

ABLATIONS = ("none", "off", "shuffled", "reset")
#: Seed phase of lifetimes (0 and 1 are the learning and evaluation epochs of the other tasks).
LIFETIME_PHASE = 2


def lifetime_seeds(seed: int, n: int) -> list[int]:
    """The seeds of the ``n`` lifetimes of an evaluation with seed ``seed``."""
    return [derive_seed(seed, LIFETIME_PHASE, i) for i in range(n)]


def balanced_lifetimes(seed: int, n: int, symmetry: int) -> tuple[list[int], list[int]]:
    """Seeds and images of ``n`` lifetimes going through the ``symmetry`` images of each draw in turn."""
    draws = lifetime_seeds(seed, -(-n // symmetry))
    return [draws[i // symmetry] for i in range(n)], [i % symmetry for i in range(n)]


def held_out_seeds(seed: int, n: int, used: set[int] | frozenset[int] = frozenset()) -> tuple[list[int], int]:
    """``n`` lifetime seeds from ``seed`` (as :func:`lifetime_seeds`) none of which is in ``used``.

    Returns the seeds and how many candidates were skipped because evolution used them.
    """
    seeds, i, skipped = [], 0, 0
    while len(seeds) < n:
        s = derive_seed(seed, LIFETIME_PHASE, i)
        i += 1
        if s in used:
            skipped += 1
        else:
            seeds.append(s)
    return seeds, skipped


@dataclass(frozen=True)
class LifetimeStart:
    """Where every lifetime starts: the learner's state after :meth:`EplLearner.initialise` and its status then.

    ``state`` is :meth:`EplLearner.snapshot` (every floating species, momenta
    included; the conserved totals follow when it is restored).
    """

    state: np.ndarray
    status: str
    message: str

    @classmethod
    def of(cls, learner: EplLearner) -> LifetimeStart:
        """The learner's current state and status (call after ``initialise``)."""
        return cls(learner.snapshot(), learner.status, learner.message)

    @classmethod
    def initialised(cls, learner: EplLearner) -> LifetimeStart:
        """Initialise a fresh learner and take its start."""
        learner.initialise()
        return cls.of(learner)

    def apply(self, learner: EplLearner) -> None:
        """Return the learner to this start: the state, and the status a lifetime may have stopped."""
        learner.restore(self.state)
        learner.status, learner.message = self.status, self.message


@dataclass(frozen=True)
class LifetimeEvaluation:
    """Lifetimes of one agent on one list of seeds.

    Attributes
    ----------
    task, ablation : str
    seeds : tuple of int, shape (n,)
    scores : ndarray, shape (n,)
        Lifetime scores in [0, 100].
    curves : ndarray, shape (n, n_points)
        Score by trial index (the task's ``curve_label``).
    to_criterion : tuple of (int or None), shape (n,)
    statuses : tuple of str, shape (n,)
    trials : int
        Trials per lifetime (pulls or episodes).
    steps : int
        Feedback injections made in all lifetimes.
    feedback : tuple of ndarray
        Per lifetime, the feedback the task handed out (shape (calls, n_feedback)), before any ablation.
    """

    task: str
    ablation: str
    seeds: tuple[int, ...]
    scores: np.ndarray
    curves: np.ndarray
    to_criterion: tuple[int | None, ...]
    statuses: tuple[str, ...]
    trials: int
    steps: int = 0
    feedback: tuple[np.ndarray, ...] = field(default=(), repr=False, compare=False)

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def mean_score(self) -> float:
        return float(np.mean(self.scores)) if self.n else float("nan")

    @property
    def sem(self) -> float:
        """Standard error of the mean score (0 for a single lifetime)."""
        return float(np.std(self.scores, ddof=1) / np.sqrt(self.n)) if self.n > 1 else 0.0

    @property
    def learning_speed(self) -> float:
        """Mean trials to criterion, censored at ``trials + 1``."""
        return float(np.mean([self.trials + 1 if t is None else t for t in self.to_criterion]))

    @property
    def reached_fraction(self) -> float:
        """Fraction of lifetimes that met the criterion (cartpole-reversal: solved)."""
        return float(np.mean([t is not None for t in self.to_criterion])) if self.n else 0.0

    @property
    def stopped(self) -> int:
        """Lifetimes in which the learner stopped (diverged, failed, not relaxed); they score 0."""
        return sum(s != "ok" for s in self.statuses)

    def summary(self) -> dict:
        """Headline figures (JSON-ready)."""
        return {"task": self.task, "ablation": self.ablation, "lifetimes": self.n,
                "mean_score": self.mean_score, "sem": self.sem, "learning_speed": self.learning_speed,
                "reached_fraction": self.reached_fraction, "stopped": self.stopped}

    @classmethod
    def concatenate(cls, parts: Sequence[LifetimeEvaluation]) -> LifetimeEvaluation:
        """One evaluation from parts on consecutive seed lists (same task, ablation and trials)."""
        first = parts[0]
        return cls(first.task, first.ablation, tuple(s for p in parts for s in p.seeds),
                   np.concatenate([p.scores for p in parts]), np.concatenate([p.curves for p in parts]),
                   tuple(t for p in parts for t in p.to_criterion), tuple(s for p in parts for s in p.statuses),
                   first.trials, sum(p.steps for p in parts), tuple(f for p in parts for f in p.feedback))


class AblatedLearner:
    """A learner as a task sees it, with what an ablation removes removed (see the module docstring).

    Every feedback vector the task hands out is recorded (``recorded``),
    before the ablation alters it. Other attributes are the learner's.
    """

    def __init__(self, learner: EplLearner, ablation: str, initial: LifetimeStart,
                 donor: np.ndarray | None = None) -> None:
        if ablation not in ABLATIONS:
            raise InvalidValueError(f"Unknown ablation {ablation!r}; choose one of {list(ABLATIONS)}.")
        if ablation == "shuffled" and donor is None:
            raise InvalidValueError("The 'shuffled' ablation needs a donor feedback sequence (another lifetime's).")
        self.learner, self.ablation, self.initial, self.donor = learner, ablation, initial, donor
        self.recorded: list[np.ndarray] = []

    def __getattr__(self, name: str):
        return getattr(self.learner, name)

    def step(self, x):
        if self.ablation == "reset":
            self.learner.restore(self.initial.state)
        return self.learner.step(x)

    def feed_back(self, amounts) -> str:
        amounts = np.array(amounts, dtype=float)
        self.recorded.append(amounts.copy())
        if self.ablation == "reset":
            return self.learner.status
        if self.ablation == "off":
            amounts = np.zeros_like(amounts)
        elif self.ablation == "shuffled":
            amounts = (self.donor[(len(self.recorded) - 1) % len(self.donor)] if len(self.donor)
                       else np.zeros_like(amounts))
        return self.learner.feed_back(amounts)


def donor_sequences(unablated: LifetimeEvaluation) -> list[np.ndarray]:
    """The ``shuffled`` ablation's donors: lifetime ``i`` gets the feedback of lifetime ``i + 1 mod n``."""
    fb = list(unablated.feedback)
    if len(fb) != unablated.n:
        raise InvalidValueError("This evaluation kept no feedback sequences (one per lifetime is needed).")
    return fb[1:] + fb[:1]


def run_lifetimes(task: Task, seeds: Sequence[int], agent_for: Callable[[int, int], object], *,
                  ablation: str = "none", images: Sequence[int] | None = None, stop_on_failure: bool = False,
                  traces: list | None = None) -> LifetimeEvaluation:
    """Lifetime ``i`` is ``task.run_lifetime(agent_for(i, seed_i), seed_i)`` (with ``image=images[i]`` if given).

    ``agent_for`` returns a fresh agent (a learner restored to its initial
    state, an :class:`AblatedLearner`, a reference policy); its ``recorded``
    feedback, if it keeps one, is collected. With ``stop_on_failure`` the
    evaluation ends at the first lifetime whose agent stopped. ``traces``
    receives the first lifetime's response traces.
    """
    results: list[LifetimeResult] = []
    feedback: list[np.ndarray] = []
    for i, seed in enumerate(seeds):
        agent = agent_for(i, seed)
        image = {} if images is None else {"image": images[i]}
        results.append(task.run_lifetime(agent, seed, traces=traces if i == 0 else None, **image))
        recorded = getattr(agent, "recorded", [])
        feedback.append(np.array(recorded, dtype=float).reshape(len(recorded), task.n_feedback))
        if stop_on_failure and results[-1].status != "ok":
            break
    n = len(results)
    return LifetimeEvaluation(task.name, ablation, tuple(seeds[:n]), np.array([r.score for r in results]),
                              np.array([r.curve for r in results], dtype=float).reshape(n, -1),
                              tuple(r.to_criterion for r in results), tuple(r.status for r in results),
                              task.trials, sum(r.steps for r in results), tuple(feedback))


def learner_lifetimes(learner: EplLearner, task: Task, seeds: Sequence[int], *, ablation: str = "none",
                      initial: LifetimeStart | None = None, donors: Sequence[np.ndarray] | None = None,
                      images: Sequence[int] | None = None, stop_on_failure: bool = False,
                      traces: list | None = None) -> LifetimeEvaluation:
    """A learner's lifetimes on ``seeds`` under ``ablation``, each from ``initial``.

    Parameters
    ----------
    learner : EplLearner
        A fresh learner (initialised here) unless ``initial`` is given.
    initial : LifetimeStart, optional
        The initial equilibrium ``z*_init`` (and status) to start every lifetime from.
    donors : sequence of ndarray, optional
        ``shuffled``: lifetime ``i`` replays ``donors[i]``; by default (and in
        :func:`evaluate_ablations`) :func:`donor_sequences` of an unablated
        evaluation on the same seeds, run first.
    """
    initial = initial or LifetimeStart.initialised(learner)
    if ablation == "shuffled":
        if len(seeds) < 2:
            raise InvalidValueError(f"The 'shuffled' ablation needs at least 2 lifetimes (a donor for each). "
                                    f"Got {len(seeds)} instead.")
        if donors is None:
            donors = donor_sequences(learner_lifetimes(learner, task, seeds, initial=initial))
        if len(donors) != len(seeds):
            raise InvalidValueError(f"Expected one donor feedback sequence per lifetime ({len(seeds)}). "
                                    f"Got {len(donors)} instead.")

    def agent_for(i: int, seed: int) -> AblatedLearner:
        initial.apply(learner)
        return AblatedLearner(learner, ablation, initial, donors[i] if ablation == "shuffled" else None)

    return run_lifetimes(task, seeds, agent_for, ablation=ablation, images=images, stop_on_failure=stop_on_failure,
                         traces=traces)


def evaluate_ablations(learner: EplLearner, task: Task, seeds: Sequence[int],
                       ablations: Sequence[str] = ABLATIONS) -> dict[str, LifetimeEvaluation]:
    """The learner and its ablations on the same seeds (``shuffled`` replays the unablated run's feedback)."""
    initial = LifetimeStart.initialised(learner)
    out: dict[str, LifetimeEvaluation] = {}
    if "none" in ablations or "shuffled" in ablations:
        out["none"] = learner_lifetimes(learner, task, seeds, initial=initial)
    for ablation in ablations:
        if ablation != "none":
            donors = donor_sequences(out["none"]) if ablation == "shuffled" else None
            out[ablation] = learner_lifetimes(learner, task, seeds, ablation=ablation, initial=initial,
                                              donors=donors)
    return {a: out[a] for a in ablations}


def order_dependence(learner: EplLearner, feedback: np.ndarray, initial: LifetimeStart | None = None) -> float | None:
    """How much the order of the feedback matters to the learned state (DESIGN.md section 9).

    From ``initial`` (default: the learner's initial equilibrium), inject the
    rows of ``feedback`` (shape (n, n_feedback)) one by one, relaxing after
    each, once in the given order and once reversed; return
    ``|z_forward - z_reversed| / |z_forward|`` over the node amounts. About
    the solver's tolerance when the settled state is a function of the
    per-node sums (convex energy: credit needs feedback routed by action);
    larger when the network's history selects among several equilibria.
    None if the learner stopped.
    """
    initial = initial or LifetimeStart.initialised(learner)
    states = []
    for rows in (feedback, feedback[::-1]):
        initial.apply(learner)
        for row in rows:
            learner.feed_back(row)
        if not learner.ok:
            initial.apply(learner)
            return None
        states.append(np.array([v for k, v in sorted(learner.learned_state().items()) if k not in learner.signed]))
    initial.apply(learner)
    return float(np.linalg.norm(states[0] - states[1]) / max(np.linalg.norm(states[0]), 1e-300))
