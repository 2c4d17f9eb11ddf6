"""PyTorch adapter of :class:`~epl_sysbio.deq.layer.EquilibriumLayer` (the ``torch`` extra).

``nn.Sequential(nn.Linear(2, 4), nn.Softplus(), MolecularLayer(layer, units=4), nn.Linear(4, 2))``
trains with any torch optimizer: the forward pass solves steady states with
libRoadRunner, the backward pass multiplies the incoming gradient by the
implicit-function-theorem Jacobians (vector-Jacobian products, no re-solve).

Importing this module imports torch; ``import epl_sysbio`` does not.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from epl_sysbio.deq.layer import EquilibriumLayer, LayerOutput
from epl_sysbio.errors import ConfigError, InvalidValueError, check_parameter

__all__ = ["EquilibriumFunction", "MolecularLayer"]


class EquilibriumFunction(torch.autograd.Function):
    """``y = steady_state_outputs(x; theta)`` as an autograd function.

    ``forward(x, theta, layer, on_failure, record)``: ``x`` (B, n_in), ``theta``
    (p,) in the layer's own units; returns ``y`` (B, k) in x's dtype. Samples
    without a stable steady state raise (``on_failure="raise"``) or give
    ``y = 0`` with zero gradient (``"mask"``); ``record(output)`` receives the
    :class:`LayerOutput` either way, so the caller sees the mask and status.
    Backward: ``dL/dx[b] = g[b] @ dy/dx[b]``, ``dL/dtheta = sum_b g[b] @ dy/dtheta[b]``.
    """

    @staticmethod
    def forward(ctx, x, theta, layer: EquilibriumLayer, on_failure: str, record):  # type: ignore[override]
        want_grad = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
        out = layer.forward(
            x.detach().cpu().double().numpy(), params=theta.detach().cpu().double().numpy(), gradient=want_grad
        )
        record(out)
        if on_failure == "raise":
            out.require_ok()
        values = np.where(out.ok[:, None], out.values, 0.0)
        if want_grad:
            keep = out.ok[:, None, None]
            ctx.save_for_backward(
                torch.from_numpy(np.where(keep, out.d_inputs, 0.0)).to(x.dtype),
                torch.from_numpy(np.where(keep, out.d_params, 0.0)).to(theta.dtype),
            )
        return torch.from_numpy(values).to(dtype=x.dtype, device=x.device)

    @staticmethod
    def backward(ctx, grad_y):  # type: ignore[override]
        d_inputs, d_params = ctx.saved_tensors
        grad_x = torch.einsum("bk,bki->bi", grad_y, d_inputs) if ctx.needs_input_grad[0] else None
        grad_theta = torch.einsum("bk,bkp->p", grad_y, d_params) if ctx.needs_input_grad[1] else None
        return grad_x, grad_theta, None, None, None


class MolecularLayer(nn.Module):
    """A molecular network as a torch module.

    Parameters
    ----------
    layer : EquilibriumLayer
        The compiled network; its ``params`` are the initial values.
    units : int
        Independent copies side by side, each with its own parameters (like
        the hidden units of a dense layer): input (B, units * n_in), output
        (B, units * k), column blocks per unit. The copies share one compiled
        model.
    log_params : bool
        Train ``log(theta)`` (keeps rate constants positive). Needs positive
        initial values.
    on_failure : {"raise", "mask"}
        What a sample without a stable steady state does: raise
        :class:`~epl_sysbio.errors.SteadyStateError`, or output 0 with zero
        gradient. Either way :attr:`last_outputs` holds each unit's
        :class:`LayerOutput` (``ok`` mask, ``status``) and :attr:`last_ok` the
        combined mask (B,).
    rng : numpy.random.Generator, optional
        Spreads the copies' initial log-parameters by N(0, ``init_spread``^2)
        so that the units differ; without it all copies start equal.
    init_spread : float
    """

    def __init__(
        self,
        layer: EquilibriumLayer,
        *,
        units: int = 1,
        log_params: bool = True,
        on_failure: str = "raise",
        rng: np.random.Generator | None = None,
        init_spread: float = 0.3,
    ) -> None:
        super().__init__()
        check_parameter("MolecularLayer", "units", isinstance(units, int) and units >= 1, "an int >= 1", units,
                        error=ConfigError)
        check_parameter("MolecularLayer", "on_failure", on_failure in ("raise", "mask"), "'raise' or 'mask'",
                        on_failure, error=ConfigError)
        self.layer, self.units, self.log_params, self.on_failure = layer, units, log_params, on_failure
        theta = np.tile(layer.params, (units, 1))
        if log_params:
            if np.any(theta <= 0):
                bad = [p for p, v in zip(layer.param_ids, layer.params) if v <= 0]
                raise InvalidValueError(
                    f"MolecularLayer(log_params=True) needs positive initial params; {bad} are <= 0. "
                    "Set positive values in the model or use log_params=False."
                )
            theta = np.log(theta)
        if rng is not None:
            theta = theta + rng.normal(0.0, init_spread, theta.shape)
        self.theta = nn.Parameter(torch.tensor(theta, dtype=torch.float64))
        self.last_outputs: list[LayerOutput] = []
        self.last_ok: np.ndarray | None = None

    @property
    def params(self) -> torch.Tensor:
        """The parameters in the model's units, shape (units, p)."""
        return torch.exp(self.theta) if self.log_params else self.theta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n_in = len(self.layer.input_ids)
        if x.ndim != 2 or x.shape[1] != self.units * n_in:
            raise InvalidValueError(
                f"MolecularLayer expects input of shape (B, {self.units * n_in}) (units={self.units} x inputs "
                f"{list(self.layer.input_ids)}). Got {tuple(x.shape)} instead."
            )
        self.last_outputs = []
        theta = self.params
        blocks = [
            EquilibriumFunction.apply(x[:, u * n_in : (u + 1) * n_in], theta[u], self.layer, self.on_failure,
                                      self.last_outputs.append)
            for u in range(self.units)
        ]
        self.last_ok = np.logical_and.reduce([o.ok for o in self.last_outputs])
        return torch.cat(blocks, dim=1)

    def extra_repr(self) -> str:
        return f"{self.layer!r}, units={self.units}, log_params={self.log_params}, on_failure={self.on_failure!r}"
