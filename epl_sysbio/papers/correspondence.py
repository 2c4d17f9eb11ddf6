"""Neuroevolution as gradient descent (Whitelam, Selin, Park & Tamblyn, Nat. Commun. 2021).

*Conditioned stochastic mutation*: every parameter is mutated at once,
``x' = x + eps``, ``eps ~ N(0, sigma^2 I)``, and the mutant is accepted with the
Metropolis probability ``min(1, exp(-beta (U(x') - U(x))))``; at
``beta = inf`` it is accepted iff the loss does not rise. For small ``sigma``,
with ``g = grad U`` and ``dU ~ g . eps``:

* ``beta = inf``: acceptance ``P(g . eps <= 0) = 1/2``; mean step
  ``E[eps 1{g.eps <= 0}] = -(sigma / sqrt(2 pi)) g/|g|`` (the half-normal mean
  along ``g``; the other directions average out); second moment
  ``E[eps_i^2 1{accept}] = sigma^2/2`` (``eps -> -eps`` swaps accepted and
  rejected halves and keeps ``eps_i^2``). Averaged over runs this is *clipped*
  gradient descent ``x <- x - rate g/|g|``.
* finite ``beta``: the mean step along ``g`` is
  ``E[s min(1, e^{-beta |g| s})]`` with ``s ~ N(0, sigma^2)``, which equals
  ``-beta |g| sigma^2 e^{kappa^2/2} Q(kappa)`` exactly for a linear loss
  (``kappa = beta |g| sigma``, ``Q`` the normal tail); for ``kappa -> 0``,
  ``-(beta sigma^2 / 2) g``: plain gradient descent.

Time matching (one mutation step = ``lambda`` gradient steps of rate ``alpha``):
``sigma = sqrt(2 pi) lambda alpha`` at ``beta = inf`` and
``sigma = sqrt(2 lambda alpha / beta)`` at finite ``beta``
(:func:`time_matched_sigma`). The distance between gradient descent and the
ensemble mean is ``Delta(t) = mean_i (x_GD,i(t) - <x_i(t)>)^2``
(:func:`delta`).

Losses are batched: ``loss_fn`` maps parameters of shape ``(n, d)`` (one row per
trajectory) to losses of shape ``(n,)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real

import numpy as np

from epl_sysbio.errors import Interval, check_parameter as _check, validate

__all__ = [
    "BatchLoss",
    "time_matched_sigma",
    "mutation_step",
    "MutationEnsemble",
    "run_conditioned_mutation",
    "gradient_descent",
    "delta",
    "TanhNetwork",
]

BatchLoss = Callable[[np.ndarray], np.ndarray]
"""``(n, d) -> (n,)``: the loss of each row of parameters."""


_POSITIVE = Interval(Real, 0, None, closed="neither")
_BETA = Interval(Real, 0, None, closed="right")  # inf: the noise-free limit


def time_matched_sigma(alpha: float, lam: float, beta: float = np.inf) -> float:
    """Mutation scale that makes one mutation step equal ``lam`` gradient steps of rate ``alpha``.

    ``beta = inf``: the mean step ``sigma / sqrt(2 pi)`` equals the clipped
    gradient step ``lam * alpha``, so ``sigma = sqrt(2 pi) lam alpha``.
    Finite ``beta``: the mean step ``(beta sigma^2 / 2) g`` equals
    ``lam alpha g``, so ``sigma = sqrt(2 lam alpha / beta)``.
    """
    validate("time_matched_sigma", {"alpha": _POSITIVE, "lam": _POSITIVE, "beta": _BETA},
             {"alpha": alpha, "lam": lam, "beta": beta})
    if np.isinf(beta):
        return float(np.sqrt(2.0 * np.pi) * lam * alpha)
    return float(np.sqrt(2.0 * lam * alpha / beta))


def mutation_step(
    loss_fn: BatchLoss,
    x: np.ndarray,
    loss_x: np.ndarray,
    sigma: float,
    beta: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One conditioned mutation step for every trajectory.

    Parameters
    ----------
    loss_fn : callable, ``(n, d) -> (n,)``
    x : numpy.ndarray, shape (n, d)
        Current parameters, one row per trajectory.
    loss_x : numpy.ndarray, shape (n,)
        ``loss_fn(x)``, carried over so each step costs one loss evaluation.
    sigma : float
        Mutation scale, > 0.
    beta : float
        Inverse temperature in (0, inf]; ``inf`` accepts iff ``dU <= 0``.
    rng : numpy.random.Generator

    Returns
    -------
    x_new : numpy.ndarray, shape (n, d)
    loss_new : numpy.ndarray, shape (n,)
    accepted : numpy.ndarray of bool, shape (n,)
    """
    proposal = x + sigma * rng.standard_normal(x.shape)
    loss_p = loss_fn(proposal)
    d_loss = loss_p - loss_x
    if np.isinf(beta):
        accepted = d_loss <= 0.0
    else:
        # Metropolis: accept with probability min(1, exp(-beta dU)); u in [0, 1)
        # so log(u) < -beta dU is exact, including dU <= 0 (always accepted).
        with np.errstate(divide="ignore"):
            accepted = np.log(rng.random(d_loss.shape)) < -beta * d_loss
    accepted &= np.isfinite(loss_p)
    x_new = np.where(accepted[:, None], proposal, x)
    return x_new, np.where(accepted, loss_p, loss_x), accepted


@dataclass(frozen=True)
class MutationEnsemble:
    """An ensemble of conditioned-mutation trajectories.

    Attributes
    ----------
    steps : numpy.ndarray of int, shape (T,)
        Recorded mutation steps (0 is the start).
    mean : numpy.ndarray, shape (T, d)
        Ensemble-mean parameters ``<x>`` at the recorded steps.
    mean_loss : numpy.ndarray, shape (T,)
        Ensemble-mean loss.
    acceptance_rate : float
        Accepted / proposed over all steps and trajectories.
    final : numpy.ndarray, shape (n, d)
        Every trajectory's final parameters.
    sample : numpy.ndarray, shape (T, k, d)
        The first ``k`` trajectories at the recorded steps (for plots).
    sigma, beta : float
    seed : int | None
        Seed recorded by the caller (``run_conditioned_mutation`` stores the
        ``seed`` argument as given).
    """

    steps: np.ndarray
    mean: np.ndarray
    mean_loss: np.ndarray
    acceptance_rate: float
    final: np.ndarray
    sample: np.ndarray
    sigma: float
    beta: float
    seed: int | None


def run_conditioned_mutation(
    loss_fn: BatchLoss,
    x0: np.ndarray,
    *,
    n_trajectories: int,
    sigma: float,
    beta: float,
    n_steps: int,
    record_every: int,
    rng: np.random.Generator,
    seed: int | None = None,
    keep: int = 5,
    progress: Callable[[int], None] | None = None,
) -> MutationEnsemble:
    """Run ``n_trajectories`` independent conditioned-mutation runs from the same ``x0``.

    All trajectories advance together: one batched loss evaluation per step.

    Parameters
    ----------
    loss_fn : callable, ``(n, d) -> (n,)``
    x0 : numpy.ndarray, shape (d,)
        Common starting parameters.
    n_trajectories, n_steps, record_every : int
    sigma : float
    beta : float, in (0, inf]
    rng : numpy.random.Generator
    seed : int, optional
        Stored in the result, so the run can be reproduced.
    keep : int
        Number of individual trajectories stored for plots.
    progress : callable, optional
        Called with the number of steps done after every step.

    Returns
    -------
    MutationEnsemble
    """
    owner = "run_conditioned_mutation"
    for name, value in (("n_trajectories", n_trajectories), ("n_steps", n_steps),
                        ("record_every", record_every)):
        _check(owner, name, int(value) == value and value >= 1, "an integer >= 1", value)
    validate(owner, {"sigma": _POSITIVE, "beta": _BETA}, {"sigma": sigma, "beta": beta})
    x = np.repeat(np.asarray(x0, dtype=float)[None, :], n_trajectories, axis=0)
    loss = loss_fn(x)
    steps, means, losses, sample = [0], [x.mean(axis=0)], [loss.mean()], [x[:keep].copy()]
    n_accepted = 0
    for step in range(1, n_steps + 1):
        x, loss, accepted = mutation_step(loss_fn, x, loss, sigma, beta, rng)
        n_accepted += int(accepted.sum())
        if step % record_every == 0:
            steps.append(step)
            means.append(x.mean(axis=0))
            losses.append(loss.mean())
            sample.append(x[:keep].copy())
        if progress is not None:
            progress(step)
    return MutationEnsemble(
        steps=np.asarray(steps), mean=np.asarray(means), mean_loss=np.asarray(losses),
        acceptance_rate=n_accepted / (n_steps * n_trajectories), final=x,
        sample=np.asarray(sample), sigma=float(sigma), beta=float(beta), seed=seed,
    )


def gradient_descent(
    grad_fn: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    *,
    rate: float,
    n_steps: int,
    record_every: int,
    clipped: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient descent ``x <- x - rate g``, or clipped ``x <- x - rate g/|g|``.

    "Clipped" follows the paper: the gradient is rescaled to unit norm, the
    ``beta = inf`` limit of conditioned mutation. A zero gradient gives no step.

    Parameters
    ----------
    grad_fn : callable, ``(d,) -> (d,)``
    x0 : numpy.ndarray, shape (d,)
    rate : float
        Learning rate ``alpha``.
    n_steps, record_every : int
    clipped : bool

    Returns
    -------
    steps : numpy.ndarray of int, shape (T,)
    trajectory : numpy.ndarray, shape (T, d)
    """
    x = np.asarray(x0, dtype=float).copy()
    steps, path = [0], [x.copy()]
    for step in range(1, n_steps + 1):
        g = grad_fn(x)
        if clipped:
            norm = np.linalg.norm(g)
            g = g / norm if norm > 0 else g
        x = x - rate * g
        if step % record_every == 0:
            steps.append(step)
            path.append(x.copy())
    return np.asarray(steps), np.asarray(path)


def delta(x_gd: np.ndarray, x_mean: np.ndarray) -> np.ndarray:
    """``Delta = mean over parameters of (x_GD - <x>)^2``; shapes (..., d) -> (...)."""
    return np.mean((np.asarray(x_gd) - np.asarray(x_mean)) ** 2, axis=-1)


class TanhNetwork:
    """A 1-``width``-1 tanh network and its mean-squared-error loss, batched over parameter rows.

    ``f(theta) = sum_h v_h tanh(w_h theta + b_h) + c``; parameters are packed as
    ``[w (width), b (width), v (width), c]``, ``d = 3 width + 1``. The loss is
    ``U = mean_k (f(theta_k) - y_k)^2`` over the data points.

    Parameters
    ----------
    width : int
    inputs, targets : numpy.ndarray, shape (P,)
    chunk : int
        Rows evaluated together (bounds memory at ``chunk * P * width`` floats).
    """

    def __init__(self, width: int, inputs: np.ndarray, targets: np.ndarray, chunk: int = 100):
        _check("TanhNetwork", "width", int(width) == width and width >= 1,
               "an integer >= 1", width)
        self.width = int(width)
        self.inputs = np.asarray(inputs, dtype=float)
        self.targets = np.asarray(targets, dtype=float)
        self.chunk = int(chunk)

    @property
    def n_parameters(self) -> int:
        return 3 * self.width + 1

    def _unpack(self, p: np.ndarray) -> tuple[np.ndarray, ...]:
        h = self.width
        return p[:, :h], p[:, h:2 * h], p[:, 2 * h:3 * h], p[:, 3 * h]

    def loss(self, params: np.ndarray) -> np.ndarray:
        """Loss of each row; ``(n, d) -> (n,)``."""
        params = np.atleast_2d(params)
        out = np.empty(params.shape[0])
        for start in range(0, params.shape[0], self.chunk):
            w, b, v, c = self._unpack(params[start:start + self.chunk])
            hidden = np.tanh(self.inputs[None, :, None] * w[:, None, :] + b[:, None, :])
            pred = np.einsum("nph,nh->np", hidden, v) + c[:, None]
            out[start:start + self.chunk] = np.mean((pred - self.targets) ** 2, axis=1)
        return out

    def gradient(self, params: np.ndarray) -> np.ndarray:
        """Gradient of the loss by backpropagation; ``(d,) -> (d,)`` or ``(n, d) -> (n, d)``."""
        single = np.ndim(params) == 1
        params = np.atleast_2d(params)
        w, b, v, c = self._unpack(params)
        hidden = np.tanh(self.inputs[None, :, None] * w[:, None, :] + b[:, None, :])
        resid = np.einsum("nph,nh->np", hidden, v) + c[:, None] - self.targets
        k = self.inputs.size
        # dU/dpred = 2 (pred - y)/K; back through v and tanh' = 1 - tanh^2.
        d_pred = 2.0 * resid / k
        d_pre = d_pred[:, :, None] * v[:, None, :] * (1.0 - hidden**2)
        grad = np.concatenate([
            np.einsum("nph,p->nh", d_pre, self.inputs),
            d_pre.sum(axis=1),
            np.einsum("np,nph->nh", d_pred, hidden),
            d_pred.sum(axis=1)[:, None],
        ], axis=1)
        return grad[0] if single else grad

    def initial_parameters(self, rng: np.random.Generator, std: float) -> np.ndarray:
        """Parameters drawn i.i.d. from ``N(0, std^2)``; shape (d,)."""
        return std * rng.standard_normal(self.n_parameters)
