"""Gradient descent on the parameters of a molecular network: the DEQ half of Algorithm 1.

In an ordinary deep-equilibrium model the parameters theta are trained by
gradient descent through the steady state; EPL instead keeps theta fixed and
lets the state learn. :func:`train_params` is that DEQ baseline: Adam on
``log(theta)`` (or theta) minimising the mean squared error of the layer's
steady-state outputs, with implicit gradients (no finite differences).

Loss at each step, over the samples that reached a stable steady state
(``ok``): ``L = mean_b sum_k (y_bk - t_bk)^2``; samples that did not are left
out of the mean and counted in :attr:`TrainingResult.failed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real

import numpy as np

from epl_sysbio.deq.layer import EquilibriumLayer
from epl_sysbio.errors import Interval, InvalidValueError, validate_fields

__all__ = ["TrainingOptions", "TrainingResult", "train_params"]


_POSITIVE = Interval(Real, 0, None, closed="neither")
_DECAY = Interval(Real, 0, 1, closed="left")
_OPTIONS_PARAMETERS = {
    "steps": Interval(int, 0, None, closed="left"),
    "learning_rate": _POSITIVE,
    "batch_size": [None, Interval(int, 1, None, closed="left")],
    "beta1": _DECAY,
    "beta2": _DECAY,
    "eps": _POSITIVE,
}


@dataclass(frozen=True, kw_only=True)
class TrainingOptions:
    """Settings of :func:`train_params`.

    Parameters
    ----------
    steps : int
        Adam steps.
    learning_rate : float
        Adam's step size (in log units when ``log_space``).
    batch_size : int or None
        Mini-batch size; None uses every sample each step.
    log_space : bool
        Optimise ``log(theta)`` (keeps rate constants positive).
    beta1, beta2, eps : float
        Adam's moment decays and denominator floor (Kingma & Ba 2015).
    seed : int
        Seeds the mini-batch order (numpy.random.default_rng).
    """

    steps: int = 200
    learning_rate: float = 0.05
    batch_size: int | None = None
    log_space: bool = True
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    seed: int = 0

    def __post_init__(self) -> None:
        validate_fields(self, _OPTIONS_PARAMETERS)


@dataclass(frozen=True)
class TrainingResult:
    """What :func:`train_params` did.

    Attributes
    ----------
    params : ndarray, shape (p,)
        Final parameters (also set on the layer).
    loss : ndarray, shape (steps + 1,)
        Loss on the step's batch before each step, and after the last one on
        every sample.
    failed : ndarray of int, shape (steps + 1,)
        Samples without a stable steady state at each evaluation.
    history : ndarray, shape (steps + 1, p)
        Parameters at each evaluation.
    """

    params: np.ndarray
    loss: np.ndarray
    failed: np.ndarray
    history: np.ndarray


def _loss_and_gradient(layer: EquilibriumLayer, x: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray, int]:
    out = layer.forward(x, gradient=True)
    ok = out.ok
    if not ok.any():
        return float("nan"), np.zeros(len(layer.param_ids)), int(ok.size)
    err = out.values[ok] - targets[ok]  # (b, k)
    loss = float(np.mean(np.sum(err**2, axis=1)))
    # dL/dtheta = mean_b 2 err_b @ dy_b/dtheta
    grad = 2.0 * np.einsum("bk,bkp->p", err, out.d_params[ok]) / ok.sum()
    return loss, grad, int((~ok).sum())


def train_params(
    layer: EquilibriumLayer, x: np.ndarray, targets: np.ndarray, options: TrainingOptions | None = None
) -> TrainingResult:
    """Fit the layer's trainable parameters to ``targets`` by Adam.

    Adam, per step t with gradient g of the loss in the optimised coordinates
    ``z`` (``log theta`` or ``theta``; ``dL/dlog theta = theta dL/dtheta``):
    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``z <- z - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)``.
    A step with no stable sample stops the run (the loss is NaN there).

    Parameters
    ----------
    layer : EquilibriumLayer
    x : array, shape (B, n_in)
    targets : array, shape (B, k)
        Target outputs, in ``layer.output_ids`` order.
    options : TrainingOptions, optional
    """
    opts = options or TrainingOptions()
    x = np.asarray(x, dtype=float)
    targets = np.asarray(targets, dtype=float)
    if targets.shape != (x.shape[0], len(layer.output_ids)):
        raise InvalidValueError(
            f"targets must have shape ({x.shape[0]}, {len(layer.output_ids)}) for outputs {list(layer.output_ids)}. "
            f"Got {targets.shape} instead."
        )
    theta = layer.params
    if opts.log_space and np.any(theta <= 0):
        raise InvalidValueError(
            f"train_params(log_space=True) needs positive params; got {dict(zip(layer.param_ids, theta.tolist()))}. "
            "Use TrainingOptions(log_space=False)."
        )
    z = np.log(theta) if opts.log_space else theta.copy()
    rng = np.random.default_rng(opts.seed)
    m, v = np.zeros_like(z), np.zeros_like(z)
    losses, failures, history = [], [], []
    order = np.arange(0)
    for step in range(1, opts.steps + 1):
        if opts.batch_size is None:
            batch = slice(None)
        else:
            if order.size < opts.batch_size:
                order = np.concatenate([order, rng.permutation(x.shape[0])])
            batch, order = order[: opts.batch_size], order[opts.batch_size :]
        theta = np.exp(z) if opts.log_space else z
        layer.set_params(theta)
        loss, grad, failed = _loss_and_gradient(layer, x[batch], targets[batch])
        losses.append(loss)
        failures.append(failed)
        history.append(theta.copy())
        if not np.isfinite(loss):
            break
        g = grad * theta if opts.log_space else grad
        m = opts.beta1 * m + (1 - opts.beta1) * g
        v = opts.beta2 * v + (1 - opts.beta2) * g**2
        z = z - opts.learning_rate * (m / (1 - opts.beta1**step)) / (np.sqrt(v / (1 - opts.beta2**step)) + opts.eps)
    theta = np.exp(z) if opts.log_space else z
    layer.set_params(theta)
    loss, _, failed = _loss_and_gradient(layer, x, targets)
    losses.append(loss)
    failures.append(failed)
    history.append(theta.copy())
    return TrainingResult(theta, np.array(losses), np.array(failures), np.array(history))
