"""Reference policies on the lifetime tasks' own seeds, and the ceilings of the control tasks.

Every reference plays the same lifetimes as a learner (the task's
:meth:`~.lifetime_tasks.LifetimeTask.run_lifetime` with the same seeds, hence
the same hidden variables, rewards and initial states) through the learner's
interface: it is handed the input, answers with one ``Active`` value per
output (one-hot of its choice), and reads the outcome from the feedback
vector. References play a *reference config* of the task (feedback routed by
action, one unit per outcome) so that the feedback tells them what happened;
the draws do not depend on it.

Bandits (Beta(1, 1) prior where a prior is needed; ties go to the lowest arm):

* ``random``: a uniformly random arm (its own generator, seeded by the lifetime).
* ``greedy``: each arm once, then the highest empirical mean.
* ``ucb1``: each arm once, then the highest ``mean + sqrt(2 ln t / n_a)``
  (Auer, Cesa-Bianchi & Fischer 2002; ``t`` pulls so far).
* ``thompson``: the highest draw from each arm's Beta(1 + s, 1 + f).
* ``gittins`` (bandit5): the highest finite-horizon Gittins index
  ``G_m(s, f)`` with ``m`` pulls remaining: the retirement reward per pull
  ``lambda`` at which pulling once and then continuing optimally (with the
  option to retire at ``lambda`` per remaining pull) is worth exactly
  ``lambda * m``. Computed by backward induction on a grid of 256 values of
  ``lambda`` in [0, 1] with linear interpolation of the crossing
  (:func:`gittins_table`). Duan et al. (2016, RL^2, Table 1) report 78.3 for
  "Gittins" at k = 5, n = 100 without saying which index; this one is
  recomputed here.
* ``bayes_optimal`` (bandit2): the Bayes-optimal policy by dynamic
  programming. With p1 in {0.1, 0.9} and p2 = 1 - p1, the posterior depends
  only on ``d`` = (arm 0 successes + arm 1 failures) - (arm 0 failures + arm 1
  successes): odds 9^d for p1 = 0.9. Both arms move ``d`` by +1 with the same
  probability ``P(p1 = 0.9 | d) * 0.9 + (1 - P) * 0.1``, so no pull is more
  informative than another and the optimum pulls arm 0 iff ``d >= 0``;
  :func:`bayes_optimal_bandit2` gives its exact expected score.

cartpole-reversal (on the pole observations):

* ``fixed``: the memoryless controller "push towards the side the pole falls
  to", right iff ``theta + 0.5 * omega > 0`` (rad, rad/s): it solves a lifetime
  iff the actions are not reversed.
* ``switch``: the same controller that swaps its two actions after an episode
  that failed within 100 steps: a learner, the ceiling a learner can reach.

FrozenLake: :func:`frozenlake_ceiling` is the success probability within the
episode's 100 steps of the optimal (time-dependent) policy, by value
iteration on gymnasium's own transition table: 74.4 % on the slippery lake,
100 % on the deterministic one (the paper's best fitness, 91, cannot have
been the slippery 4x4 lake).
"""

from __future__ import annotations

import abc
import dataclasses
import functools
from collections.abc import Sequence

import numpy as np

from epl_sysbio.errors import InvalidValueError

from epl_sysbio.seeds import derive_seed

from .ablations import LifetimeEvaluation, run_lifetimes
from .learner import Response
from .lifetime_tasks import Bandit, CartPoleReversal, LifetimeTask
from .registry import make_task
from .tasks import TaskConfig

__all__ = ["REFERENCE_POLICIES", "PUBLISHED", "reference_task", "reference_lifetimes", "gittins_table",
           "bayes_optimal_bandit2", "frozenlake_ceiling", "frozenlake_value_iteration", "PAPER_FROZENLAKE_BEST"]

#: Reference policies per lifetime task.
REFERENCE_POLICIES = {
    "bandit2": ("random", "greedy", "ucb1", "thompson", "bayes_optimal"),
    "bandit5": ("random", "greedy", "ucb1", "thompson", "gittins"),
    "cartpole-reversal": ("fixed", "switch"),
}
#: Published figures: Duan et al. 2016 (RL^2), Table 1, k = 5 arms, n = 100 pulls, total reward.
PUBLISHED = {"bandit5": {"gittins": 78.3, "rl2": 78.7}}
#: The EPL paper's best FrozenLake fitness (Baik & Yoon 2023), at generation 50.
PAPER_FROZENLAKE_BEST = 91.0


def reference_task(config: TaskConfig) -> LifetimeTask:
    """The task of ``config`` as the references play it: feedback routed by action, one unit per outcome."""
    changes = dict(feedback_routing="action", success_feedback=1.0, failure_feedback=1.0, step_feedback=1.0,
                   previous_action=False, observations="pole", input_scale=1.0)
    task = make_task(dataclasses.replace(config, **changes))
    if not isinstance(task, LifetimeTask):
        raise InvalidValueError(f"Reference policies are defined for the lifetime tasks "
                                f"{sorted(REFERENCE_POLICIES)}. Got task {config.name!r} instead.")
    return task


class _Policy(abc.ABC):
    """A reference policy behind the learner's interface (``ok``, ``status``, ``step``, ``feed_back``)."""

    ok, status, message = True, "ok", ""

    def __init__(self, n_outputs: int) -> None:
        self.n_outputs = n_outputs

    @abc.abstractmethod
    def choose(self, x: np.ndarray) -> int:
        """The action for input ``x``."""

    def step(self, x) -> Response:
        self.last = self.choose(np.asarray(x, dtype=float))
        activity = np.zeros(self.n_outputs)
        activity[self.last] = 1.0
        return Response(activity, np.zeros((0, 1 + self.n_outputs)), "ok")

    @abc.abstractmethod
    def feed_back(self, amounts) -> str:
        """Read the outcome of the last action."""


class _BanditPolicy(_Policy):
    def __init__(self, k: int, pulls: int, rng: np.random.Generator) -> None:
        super().__init__(k)
        self.k, self.pulls, self.rng = k, pulls, rng
        self.s, self.f = np.zeros(k, dtype=int), np.zeros(k, dtype=int)

    def feed_back(self, amounts) -> str:
        node = int(np.flatnonzero(np.asarray(amounts) > 0)[0])  # reference config: (arm, success | failure) nodes
        arm, success = divmod(node, 2)
        (self.f if success else self.s)[arm] += 1
        return "ok"

    def _first_unpulled(self) -> int | None:
        n = self.s + self.f
        return int(np.argmin(n)) if n.min() == 0 else None


class _Random(_BanditPolicy):
    def choose(self, x: np.ndarray) -> int:
        return int(self.rng.integers(self.k))


class _Greedy(_BanditPolicy):
    def choose(self, x: np.ndarray) -> int:
        first = self._first_unpulled()
        return first if first is not None else int(np.argmax(self.s / (self.s + self.f)))


class _Ucb1(_BanditPolicy):
    def choose(self, x: np.ndarray) -> int:
        first = self._first_unpulled()
        if first is not None:
            return first
        n = self.s + self.f
        return int(np.argmax(self.s / n + np.sqrt(2.0 * np.log(n.sum()) / n)))


class _Thompson(_BanditPolicy):
    def choose(self, x: np.ndarray) -> int:
        return int(np.argmax(self.rng.beta(1 + self.s, 1 + self.f)))


class _Gittins(_BanditPolicy):
    def choose(self, x: np.ndarray) -> int:
        remaining = self.pulls - int((self.s + self.f).sum())
        return int(np.argmax(gittins_table(self.pulls)[remaining, self.s, self.f]))


class _BayesOptimal2(_BanditPolicy):
    def choose(self, x: np.ndarray) -> int:
        d = (self.s[0] + self.f[1]) - (self.f[0] + self.s[1])
        return 0 if d >= 0 else 1


class _PoleController(_Policy):
    """Right iff ``theta + 0.5 omega > 0``, read from CartPole's "pole" encoding (unit input_scale)."""

    def __init__(self, switch: bool) -> None:
        super().__init__(2)
        self.switch, self.swapped, self.episode_steps = switch, False, 0

    def choose(self, x: np.ndarray) -> int:
        theta, omega = (x[0] - x[1]) * 0.21, (x[2] - x[3]) * 2.0
        right = int(theta + 0.5 * omega > 0)
        return 1 - right if self.swapped else right

    def feed_back(self, amounts) -> str:
        self.episode_steps += 1
        if self.episode_steps == 500:  # CartPole-v1 truncates here without a penalty: a new episode starts
            self.episode_steps = 0
        if np.asarray(amounts)[1::2].sum() > 0:  # a penalty: the pole fell
            if self.switch and self.episode_steps <= 100:
                self.swapped = not self.swapped
            self.episode_steps = 0
        return "ok"


def _make_policy(name: str, task: LifetimeTask, seed: int) -> _Policy:
    rng = np.random.default_rng(derive_seed(seed, 7))
    if isinstance(task, Bandit):
        cls = {"random": _Random, "greedy": _Greedy, "ucb1": _Ucb1, "thompson": _Thompson, "gittins": _Gittins,
               "bayes_optimal": _BayesOptimal2}[name]
        return cls(task.k, task.config.pulls, rng)
    return _PoleController(switch=name == "switch")


def reference_lifetimes(name: str, config: TaskConfig, seeds: Sequence[int]) -> LifetimeEvaluation:
    """Reference policy ``name`` (see :data:`REFERENCE_POLICIES`) on the lifetimes of ``seeds``.

    The evaluation's ``ablation`` field holds the policy's name.
    """
    allowed = REFERENCE_POLICIES.get(config.name, ())
    if name not in allowed:
        raise InvalidValueError(f"Unknown reference policy {name!r} for task {config.name!r}; "
                                f"choose one of {list(allowed)}.")
    task = reference_task(config)
    if isinstance(task, CartPoleReversal) and task.pole.observed != slice(2, 4):
        raise InvalidValueError("The cartpole-reversal references read the pole observations.")
    return run_lifetimes(task, seeds, lambda i, seed: _make_policy(name, task, seed), ablation=name)


@functools.lru_cache(maxsize=4)
def gittins_table(pulls: int, grid: int = 256) -> np.ndarray:
    """Finite-horizon Gittins indices ``G[m, s, f]`` of a Bernoulli arm with a Beta(1, 1) prior.

    ``m`` pulls remaining (1..pulls), ``s`` successes and ``f`` failures so far
    (``s + f <= pulls - m``; other entries are NaN). With ``p = (s + 1) / (s + f + 2)``
    and ``W_0 = 0``::

        W_m(s, f; lambda) = max(lambda m, C_m(s, f; lambda))
        C_m(s, f; lambda) = p (1 + W_{m-1}(s + 1, f)) + (1 - p) W_{m-1}(s, f + 1)
        G_m(s, f)         = the lambda with C_m(s, f; lambda) = lambda m

    ``C_m - lambda m`` falls strictly with lambda, so the root is unique; it is
    found on ``grid`` values of lambda in [0, 1] and interpolated linearly.

    Returns
    -------
    ndarray, shape (pulls + 1, pulls + 1, pulls + 1)
    """
    lam = np.linspace(0.0, 1.0, grid)[:, None, None]
    size = pulls + 2
    table = np.full((pulls + 1, pulls + 1, pulls + 1), np.nan)
    w = np.zeros((grid, size, size))
    for m in range(1, pulls + 1):
        n = pulls - m + 1  # states with s + f <= pulls - m fit in s, f < n; they read W_{m-1} up to index n
        s, f = np.arange(n)[:, None], np.arange(n)[None, :]
        p = (s + 1) / (s + f + 2.0)
        cont = p * (1.0 + w[:, 1:n + 1, :n]) + (1.0 - p) * w[:, :n, 1:n + 1]
        diff = cont - lam * m  # falls with lambda
        below = diff < 0
        j = np.where(below.any(axis=0), below.argmax(axis=0), grid - 1)
        j0 = np.maximum(j - 1, 0)
        d0 = np.take_along_axis(diff, j0[None], 0)[0]
        d1 = np.take_along_axis(diff, j[None], 0)[0]
        l0, l1 = lam[j0, 0, 0], lam[j, 0, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            root = np.where(d0 != d1, l0 + d0 * (l1 - l0) / (d0 - d1), l1)
        table[m, :n, :n] = np.where(s + f <= pulls - m, root, np.nan)
        w[:, :n, :n] = np.maximum(cont, lam * m)
    return table


def bayes_optimal_bandit2(pulls: int = 100) -> float:
    """Exact expected score (100 * reward / pulls) of the Bayes-optimal bandit2 policy (module docstring).

    Forward recursion over the distribution of ``d``: the expected reward of
    a pull at ``d`` is ``max(mu, 1 - mu)`` with ``mu = P(p1 = 0.9 | d) 0.9 + (1 - P) 0.1``.
    """
    d = np.arange(-pulls, pulls + 1)
    post = 1.0 / (1.0 + 9.0 ** (-d.astype(float)))  # P(p1 = 0.9 | d): odds 9^d
    mu = 0.9 * post + 0.1 * (1.0 - post)  # P(d rises by one) whichever arm is pulled
    prob = np.zeros(len(d))
    prob[pulls] = 1.0
    total = 0.0
    for _ in range(pulls):
        total += float(prob @ np.maximum(mu, 1.0 - mu))
        prob = np.concatenate([[0.0], prob[:-1] * mu[:-1]]) + np.concatenate([prob[1:] * (1.0 - mu[1:]), [0.0]])
    return 100.0 * total / pulls


def frozenlake_value_iteration(*, slippery: bool = True, steps: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Finite-horizon value iteration on the 4x4 FrozenLake (gymnasium's transition table).

    ``P[s][a] = [(prob, next, reward, terminated), ...]``::

        V_0 = 0,   V_k(s) = max_a sum prob * (reward + (1 - terminated) V_{k-1}(next))

    Returns
    -------
    values : ndarray, shape (steps + 1, 16)
        ``V_k``: the highest probability of reaching the goal within ``k`` steps.
    policy : ndarray of int, shape (steps + 1, 16)
        The optimal action with ``k`` steps left (row 0 unused).
    """
    import gymnasium

    env = gymnasium.make("FrozenLake-v1", map_name="4x4", is_slippery=slippery)
    table = env.unwrapped.P
    env.close()
    n_states, n_actions = len(table), len(table[0])
    values = np.zeros((steps + 1, n_states))
    policy = np.zeros((steps + 1, n_states), dtype=int)
    for k in range(1, steps + 1):
        q = np.array([[sum(prob * (reward + (0.0 if done else values[k - 1, nxt]))
                           for prob, nxt, reward, done in table[s][a]) for a in range(n_actions)]
                      for s in range(n_states)])
        values[k], policy[k] = q.max(axis=1), q.argmax(axis=1)
    return values, policy


def frozenlake_ceiling(*, slippery: bool = True, steps: int = 100) -> float:
    """Success probability (%) within ``steps`` steps (the episode's limit) of the optimal policy, from the start."""
    return 100.0 * float(frozenlake_value_iteration(slippery=slippery, steps=steps)[0][steps, 0])
