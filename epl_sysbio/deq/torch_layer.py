"""PyTorch adapter of :class:`~epl_sysbio.deq.layer.EquilibriumLayer` (the ``torch`` extra).

``nn.Sequential(nn.Linear(2, 4), nn.Softplus(), MolecularLayer(layer, units=4), nn.Linear(4, 2))``
trains with any torch optimizer: the forward pass solves steady states with
libRoadRunner, the backward pass multiplies the incoming gradient by the
implicit-function-theorem Jacobians (vector-Jacobian products, no re-solve).

Conventions follow ``nn.Linear``: inputs of shape ``(*, in_features)``,
outputs ``(*, out_features)`` in the input's dtype and on its device (CUDA in,
CUDA out). The steady states and gradients are computed in float64 on the CPU
whatever the input's precision (libRoadRunner solves in double), and cast back.

Importing this module imports torch; ``import epl_sysbio`` does not. Without
torch installed it raises :class:`~epl_sysbio.errors.OptionalDependencyError`
saying ``pip install epl_sysbio[torch]``.
"""

from __future__ import annotations

import numpy as np

from epl_sysbio.errors import ConfigError, Interval, InvalidValueError, OptionalDependencyError, Options, validate

try:
    import torch
    from torch import nn
except ModuleNotFoundError as exc:  # pragma: no cover - exercised in a venv without torch
    if exc.name != "torch":
        raise
    raise OptionalDependencyError(
        "MolecularLayer needs PyTorch, which is not installed. Install the torch extra: "
        "pip install 'epl_sysbio[torch]' (it pins the CPU wheel torch==2.13.0)."
    ) from None

from epl_sysbio.deq.layer import EquilibriumLayer, LayerOutput

__all__ = ["EquilibriumFunction", "MolecularLayer"]


class EquilibriumFunction(torch.autograd.Function):
    """``y = steady_state_outputs(x; theta)`` as an autograd function.

    ``forward(x, theta, layer, on_failure, record)``: ``x`` (B, n_in), ``theta``
    (p,) in the layer's own units; returns ``y`` (B, k) in x's dtype and on x's
    device (computed in float64 on the CPU). Gradients come back in the dtype
    and on the device of ``x`` and ``theta``. Samples
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
            # float64 CPU Jacobians: the products in backward stay in double precision
            ctx.save_for_backward(torch.from_numpy(np.where(keep, out.d_inputs, 0.0)),
                                  torch.from_numpy(np.where(keep, out.d_params, 0.0)))
            ctx.x_meta, ctx.theta_meta = (x.dtype, x.device), (theta.dtype, theta.device)
        return torch.from_numpy(values).to(dtype=x.dtype, device=x.device)

    @staticmethod
    def backward(ctx, grad_y):  # type: ignore[override]
        d_inputs, d_params = ctx.saved_tensors
        g = grad_y.detach().to(device="cpu", dtype=torch.float64)
        grad_x = grad_theta = None
        if ctx.needs_input_grad[0]:
            dtype, device = ctx.x_meta
            grad_x = torch.einsum("bk,bki->bi", g, d_inputs).to(dtype=dtype, device=device)
        if ctx.needs_input_grad[1]:
            dtype, device = ctx.theta_meta
            grad_theta = torch.einsum("bk,bkp->p", g, d_params).to(dtype=dtype, device=device)
        return grad_x, grad_theta, None, None, None


class MolecularLayer(nn.Module):
    """A molecular network as a torch module.

    Parameters
    ----------
    layer : EquilibriumLayer
        The compiled network; its ``params`` are the initial values.
    units : int
        Independent copies side by side, each with its own parameters (like
        the hidden units of a dense layer): input ``(*, units * n_in)``
        (:attr:`in_features`), output ``(*, units * k)`` (:attr:`out_features`),
        column blocks per unit; leading dimensions are batch dimensions, as in
        ``nn.Linear``. The copies share one compiled model.
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
        Spreads the copies' initial log-parameters by ``N(0, init_spread**2)``
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
        validate("MolecularLayer", {"units": Interval(int, 1, None, closed="left"),
                                    "on_failure": Options("raise", "mask")},
                 {"units": units, "on_failure": on_failure}, error=ConfigError)
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
        # float64 like the solver; the forward pass casts to the input's dtype and device
        self.theta = nn.Parameter(torch.tensor(theta, dtype=torch.float64))
        self.last_outputs: list[LayerOutput] = []
        self.last_ok: np.ndarray | None = None

    @property
    def in_features(self) -> int:
        """Size of the input's last dimension: ``units * len(layer.input_ids)``."""
        return self.units * len(self.layer.input_ids)

    @property
    def out_features(self) -> int:
        """Size of the output's last dimension: ``units * len(layer.output_ids)``."""
        return self.units * len(self.layer.output_ids)

    @property
    def params(self) -> torch.Tensor:
        """The parameters in the model's units, shape (units, p)."""
        return torch.exp(self.theta) if self.log_params else self.theta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(*, in_features)`` -> ``(*, out_features)``, in ``x``'s dtype and on its device."""
        n_in = len(self.layer.input_ids)
        if not isinstance(x, torch.Tensor) or x.ndim < 1 or x.shape[-1] != self.in_features:
            raise InvalidValueError(
                f"MolecularLayer expects input of shape (*, {self.in_features}) (units={self.units} x inputs "
                f"{list(self.layer.input_ids)}). Got {tuple(getattr(x, 'shape', ()))} instead."
            )
        if not torch.is_floating_point(x):
            raise InvalidValueError(f"MolecularLayer expects a floating-point input. Got dtype {x.dtype} instead.")
        lead = x.shape[:-1]
        flat = x.reshape(-1, self.in_features)
        self.last_outputs = []
        theta = self.params
        blocks = [
            EquilibriumFunction.apply(flat[:, u * n_in : (u + 1) * n_in], theta[u], self.layer, self.on_failure,
                                      self.last_outputs.append)
            for u in range(self.units)
        ]
        self.last_ok = np.logical_and.reduce([o.ok for o in self.last_outputs]).reshape(lead)
        return torch.cat(blocks, dim=1).reshape(*lead, self.out_features)

    def extra_repr(self) -> str:
        return f"{self.layer!r}, units={self.units}, log_params={self.log_params}, on_failure={self.on_failure!r}"
