"""Lifetime tasks: a hidden variable redrawn every lifetime, so that only a learner beats a known ceiling.

Evolution hard-wires a fixed policy whenever the task never changes
(DESIGN.md section 9). These tasks hide a variable that changes from
lifetime to lifetime, so that no fixed policy scores above a known ceiling:

=================  ==========================================  ======================  ===============
task               hidden variable (per lifetime)               trials                  fixed-policy
                                                                                        ceiling
=================  ==========================================  ======================  ===============
bandit2            p1 in {0.1, 0.9} (each with probability     ``pulls`` (100) pulls   50
                   1/2), p2 = 1 - p1 (Wang et al. 2016)
bandit5            p_a ~ U[0, 1] for 5 independent arms        ``pulls`` (100) pulls   50 (random)
                   (Duan et al. 2016, RL^2, Table 1)
cartpole-reversal  CartPole-v1 with the two actions swapped    ``epochs`` (10)         50 % of
                   in a random half of the lifetimes           episodes                lifetimes solved
=================  ==========================================  ======================  ===============

A *lifetime* is one learner from its initial relaxed state (the runner in
:mod:`.ablations` restores it between lifetimes); the hidden variable, the
rewards and the episodes' initial states are drawn from the lifetime's seed
only, so every policy evaluated on the same seeds meets the same draws.

*Images* of a draw (``image`` of :meth:`LifetimeTask.run_lifetime`): the
task's symmetry applied to the hidden variable, everything else equal.
Bandits: the arm probabilities rotated by ``image`` places (bandit2: p1 and
p2 swapped); cartpole-reversal: the reversal flipped. With ``balanced``
(the default) a fitness evaluation's lifetimes go through all ``symmetry``
images of each draw in turn, so that a fixed policy scores its ceiling
without the luck of the draw (over 8 independent bandit2 lifetimes a fixed
policy's score has a standard deviation of 14 points; over 4 swapped pairs
only the rewards' noise remains). Held-out evaluations draw every lifetime
independently.

Encodings (DESIGN.md section 9: with a convex energy the settled state depends
only on the per-node sums of what was injected, so credit for an action needs
feedback routed by action):

* Bandits: the input is a constant cue, ``input_scale`` into one input node,
  plus (``previous_action``) the previous action one-hot times
  ``input_scale`` into one input node per arm. One output per arm; action =
  argmax of ``Active`` (ties go to the lowest index). The reward reaches the
  learner **only** as feedback: with ``feedback_routing = "action"`` there are
  2k feedback nodes in the order (arm 0 success, arm 0 failure, arm 1
  success, ...), and node (a, success) gets ``success_feedback``, node (a,
  failure) ``failure_feedback``: their sums are exactly the Bernoulli
  bandit's sufficient statistics. With ``"outcome"`` two nodes (reward, no
  reward) are not routed by action.
* cartpole-reversal: CartPole's encoding (:class:`~.tasks.CartPole`); the
  learner's choice ``a`` (argmax of 2 outputs) is applied as ``1 - a`` in
  reversed lifetimes. Feedback as CartPole's (``step_feedback`` per step
  survived, ``failure_feedback`` when the pole falls) into 2 nodes
  (``"outcome"``) or into the chosen output's pair of 4 nodes (``"action"``).

Scores and the learning criterion (learning speed = trials to criterion):

* bandits: score = 100 * reward / pulls (the total reward at 100 pulls);
  curve = reward (%) in each window of 10 pulls; criterion: at least 8 of
  the last 10 pulls on a best arm (the pull count when first met).
* cartpole-reversal: score = 100 * min(1, best episode return / 475), so 100
  exactly when the lifetime is *solved* (an episode reached 475 within
  ``epochs`` episodes); curve = that score after each episode; criterion:
  the first episode reaching 475.

They define no loss for the Eq. 4 alignment (:meth:`~.tasks.Task.alignment_probe` is None).
"""

from __future__ import annotations

import abc

import numpy as np

from epl_sysbio.seeds import derive_seed

from .learner import EplLearner
from .tasks import CartPole, EpochResult, LifetimeResult, Task, TaskConfig

__all__ = ["LifetimeTask", "Bandit", "Bandit2", "Bandit5", "CartPoleReversal", "LIFETIME_TASKS", "CRITERION_WINDOW",
           "CRITERION_CORRECT", "SOLVED_RETURN", "trials_to_criterion"]

#: The tasks with a hidden variable per lifetime.
LIFETIME_TASKS = ("bandit2", "bandit5", "cartpole-reversal")
#: Bandit learning criterion: at least CRITERION_CORRECT best-arm pulls in the last CRITERION_WINDOW.
CRITERION_WINDOW, CRITERION_CORRECT = 10, 8
#: cartpole-reversal: an episode with at least this return solves the lifetime.
SOLVED_RETURN = 475.0


def trials_to_criterion(correct: np.ndarray) -> int | None:
    """First pull count ``t`` (1-based) with at least 8 correct pulls among pulls ``t-9`` to ``t``; None if never."""
    c = np.cumsum(np.asarray(correct, dtype=int))
    if len(c) < CRITERION_WINDOW:
        return None
    window = c[CRITERION_WINDOW - 1:] - np.concatenate([[0], c[:-CRITERION_WINDOW]])
    hits = np.flatnonzero(window >= CRITERION_CORRECT)
    return int(hits[0]) + CRITERION_WINDOW if len(hits) else None


class LifetimeTask(Task):
    """A task whose hidden variable is drawn per lifetime; an epoch is one lifetime."""

    @property
    def max_epoch_steps(self) -> int:
        return self.trials * self._max_trial_steps

    _max_trial_steps = 1

    #: Number of images of a draw (see the module docstring).
    symmetry = 2

    @abc.abstractmethod
    def run_lifetime(self, learner: EplLearner, seed: int, *, traces: list | None = None,
                     image: int = 0) -> LifetimeResult:
        """One lifetime from the learner's current state, all draws from ``seed``, the hidden variable's ``image``."""

    def run_epoch(self, learner: EplLearner, seed: int, *, learn: bool, traces: list | None = None) -> EpochResult:
        """One lifetime as an epoch (``learn`` False: every feedback amount 0)."""
        agent = learner if learn else _NoFeedback(learner)
        result = self.run_lifetime(agent, seed, traces=traces)
        return EpochResult(result.score, result.steps, result.status)


class _NoFeedback:
    """A learner whose feedback injections are all zero (the relaxation still happens)."""

    def __init__(self, learner: EplLearner) -> None:
        self._learner = learner

    def __getattr__(self, name: str):
        return getattr(self._learner, name)

    def feed_back(self, amounts) -> str:
        return self._learner.feed_back(np.zeros(len(amounts)))


class Bandit(LifetimeTask):
    """Bernoulli bandit with ``k`` arms; subclasses draw the arm probabilities."""

    k: int
    curve_label = "reward per window of 10 pulls (%)"

    def __init__(self, config: TaskConfig) -> None:
        super().__init__(config)
        self.n_inputs = 1 + (self.k if config.previous_action else 0)
        self.n_outputs = self.k
        self.n_feedback = 2 * self.k if config.feedback_routing == "action" else 2

    @property
    def trials(self) -> int:
        return self.config.pulls

    @abc.abstractmethod
    def probabilities(self, rng: np.random.Generator) -> np.ndarray:
        """The hidden arm probabilities, shape (k,)."""

    @property
    def symmetry(self) -> int:
        return self.k

    def draw(self, seed: int, image: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """A lifetime's hidden variable and rewards: ``p`` (k,) and uniforms ``u`` (pulls, k).

        Pull ``t`` of arm ``a`` pays 1 iff ``u[t, a] < p[a]``: every policy on
        the same seed meets the same draws. ``image`` rotates ``p`` by that many arms.
        """
        rng = np.random.default_rng(seed)
        p = np.roll(self.probabilities(rng), image)
        return p, rng.random((self.config.pulls, self.k))

    def encode(self, previous: int | None) -> np.ndarray:
        """The constant cue, then (``previous_action``) the previous action one-hot, times ``input_scale``."""
        x = np.zeros(self.n_inputs)
        x[0] = 1.0
        if self.config.previous_action and previous is not None:
            x[1 + previous] = 1.0
        return x * self.config.input_scale

    def feedback(self, arm: int, reward: bool) -> np.ndarray:
        """Feedback amounts after pulling ``arm`` (see the module docstring for the node order)."""
        c = self.config
        f = np.zeros(self.n_feedback)
        node = (2 * arm if c.feedback_routing == "action" else 0) + (0 if reward else 1)
        f[node] = c.success_feedback if reward else c.failure_feedback
        return f

    def run_lifetime(self, learner: EplLearner, seed: int, *, traces: list | None = None,
                     image: int = 0) -> LifetimeResult:
        p, u = self.draw(seed, image)
        pulls = self.config.pulls
        rewards = np.zeros(pulls)
        correct = np.zeros(pulls, dtype=bool)
        previous, steps = None, 0
        for t in range(pulls):
            activity = self._respond(learner, self.encode(previous), traces)
            if activity is None:
                break
            arm = int(np.argmax(activity))
            reward = bool(u[t, arm] < p[arm])
            learner.feed_back(self.feedback(arm, reward))
            steps += 1
            if not learner.ok:
                break
            rewards[t], correct[t], previous = reward, p[arm] == p.max(), arm
        windows = [100.0 * float(np.mean(rewards[i:i + CRITERION_WINDOW]))
                   for i in range(0, pulls, CRITERION_WINDOW)]
        if not learner.ok:
            return LifetimeResult(0.0, tuple(windows), None, steps, learner.status)
        return LifetimeResult(100.0 * float(rewards.mean()), tuple(windows), trials_to_criterion(correct), steps,
                              learner.status)


class Bandit2(Bandit):
    """Two dependent arms: p1 in {0.1, 0.9} with probability 1/2 each, p2 = 1 - p1."""

    name, k = "bandit2", 2

    def probabilities(self, rng: np.random.Generator) -> np.ndarray:
        p1 = 0.9 if rng.random() < 0.5 else 0.1
        return np.array([p1, 1.0 - p1])


class Bandit5(Bandit):
    """Five independent arms, p ~ U[0, 1] each."""

    name, k = "bandit5", 5

    def probabilities(self, rng: np.random.Generator) -> np.ndarray:
        return rng.random(self.k)


class CartPoleReversal(LifetimeTask):
    """CartPole-v1 whose two actions are swapped in a random half of the lifetimes (hidden)."""

    name = "cartpole-reversal"
    n_outputs = 2
    _max_trial_steps = 500
    curve_label = "score so far: 100 min(1, best return / 475)"

    def __init__(self, config: TaskConfig) -> None:
        super().__init__(config)
        self.pole = CartPole(config)  # the encoding and the gymnasium environment
        self.n_inputs = self.pole.n_inputs
        self.n_feedback = 4 if config.feedback_routing == "action" else 2

    @staticmethod
    def reversed(seed: int) -> bool:
        """The hidden variable: are the actions swapped in the lifetime of ``seed``?"""
        return bool(np.random.default_rng(seed).random() < 0.5)

    def feedback(self, choice: int, terminated: bool) -> np.ndarray:
        """CartPole's (reward, penalty), into the chosen output's pair of nodes when routed by action."""
        pair = self.pole.feedback(1.0, terminated)
        if self.config.feedback_routing == "outcome":
            return pair
        f = np.zeros(4)
        f[2 * choice:2 * choice + 2] = pair
        return f

    def run_lifetime(self, learner: EplLearner, seed: int, *, traces: list | None = None,
                     image: int = 0) -> LifetimeResult:
        swap = self.reversed(seed) != bool(image % 2)
        env, best, steps, to_criterion = self.pole.env, 0.0, 0, None
        curve: list[float] = []
        for episode in range(self.config.epochs):
            observation, _ = env.reset(seed=derive_seed(seed, episode))
            total = 0.0
            while True:
                activity = self._respond(learner, self.pole.encode(observation), traces)
                if activity is None:
                    break
                choice = int(np.argmax(activity))
                observation, reward, terminated, truncated, _ = env.step(1 - choice if swap else choice)
                total += float(reward)
                learner.feed_back(self.feedback(choice, terminated))
                steps += 1
                if terminated or truncated or not learner.ok:
                    break
            if not learner.ok:
                break
            best = max(best, total)
            curve.append(100.0 * min(1.0, best / SOLVED_RETURN))
            if to_criterion is None and total >= SOLVED_RETURN:
                to_criterion = episode + 1
                if self.config.stop_when_solved:
                    break
        if not learner.ok:
            return LifetimeResult(0.0, tuple(curve + [0.0] * (self.config.epochs - len(curve))), None, steps,
                                  learner.status)
        curve += [curve[-1]] * (self.config.epochs - len(curve))
        return LifetimeResult(curve[-1], tuple(curve), to_criterion, steps, learner.status)
