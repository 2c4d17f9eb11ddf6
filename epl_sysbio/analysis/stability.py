"""Stability of a steady state: the kind of fixed point, confirmed by a time course when borderline.

The eigenvalues are those of the reduced Jacobian (conservation laws removed;
:meth:`Engine.eigenvalues`). The kind follows the dominant eigenvalue (largest
real part) and the unstable ones:

* ``stable node`` all Re < 0, dominant eigenvalue real;
* ``stable focus`` all Re < 0, dominant pair complex (damped oscillation);
* ``saddle`` some Re > 0, some Re < 0, the unstable ones real;
* ``unstable focus`` an unstable complex pair (growing oscillation: the model
  likely oscillates, e.g. Kholodenko 2000);
* ``unstable node`` all Re > 0, real;
* ``marginal`` dominant real part zero within tolerance (fold, centre);
* ``no dynamics`` no independent variable.

A verdict is *borderline* when ``|Re lambda_dom| < borderline_rtol * max|lambda|``
or marginal, or unstable (always worth seeing): the state is then perturbed by
``perturbation`` (relative to each species, seeded, within the conservation laws) and
integrated for ``min(t_cap, horizon / |Re lambda_dom|)``; the distance to the
steady state at the end over the distance at the start is reported as
``growth`` (> 1: the perturbation grew); distances are relative to each species.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from epl_sysbio.errors import Interval, validate_fields
from epl_sysbio.simulate import Engine, Status
from epl_sysbio.simulate.stability import classify_eigenvalues

__all__ = ["StabilityOptions", "StabilityReport", "classify_fixed_point", "stability"]


@dataclass(frozen=True, kw_only=True)
class StabilityOptions:
    """Settings of :func:`stability` (see the module docstring)."""

    eigen_rtol: float = 1e-9
    borderline_rtol: float = 1e-2
    perturbation: float = 1e-3
    horizon: float = 20.0
    t_cap: float = 1e4
    seed: int = 0

    def __post_init__(self) -> None:
        validate_fields(self, dict.fromkeys(("eigen_rtol", "borderline_rtol", "perturbation", "horizon", "t_cap"),
                                            Interval((int, float), 0, None, closed="neither")))


@dataclass(frozen=True)
class StabilityReport:
    """Kind of fixed point and its evidence.

    ``growth`` is None unless a time course was run; ``oscillates`` says whether
    the perturbation changed sign at least 4 times along it.
    """

    kind: str
    eigenvalues: np.ndarray
    max_real: float | None
    borderline: bool
    growth: float | None = None
    oscillates: bool | None = None
    t_confirm: float | None = None

    @property
    def stable(self) -> bool:
        return self.kind.startswith("stable") or self.kind == "no dynamics"

    def describe(self) -> str:
        text = self.kind
        if self.max_real is not None:
            text += f" (max Re(lambda) = {self.max_real:.4g})"
        if self.growth is not None:
            text += (f"; time course to t = {self.t_confirm:.3g}: a {self.perturbation_word()} perturbation "
                     f"changed by x{self.growth:.3g}" + (", oscillating" if self.oscillates and "focus" in self.kind else ""))
        return text

    def perturbation_word(self) -> str:
        return "growing" if (self.growth or 0) > 1 else "decaying"


def classify_fixed_point(eigenvalues: np.ndarray, eigen_rtol: float = 1e-9) -> str:
    """The kind of fixed point from reduced-Jacobian eigenvalues (module docstring)."""
    eig = np.asarray(eigenvalues, dtype=complex)
    if eig.size == 0:
        return "no dynamics"
    # Stable / unstable / marginal is the engine's one verdict; this only names the kind.
    verdict = classify_eigenvalues(eig, eigen_rtol)
    if verdict is Status.MARGINAL:
        return "marginal"
    tol = eigen_rtol * max(1.0, float(np.abs(eig).max()))
    complex_ = np.abs(eig.imag) > tol
    dominant = int(np.argmax(eig.real))
    if verdict is Status.STABLE:
        return "stable focus" if complex_[dominant] else "stable node"
    unstable = eig.real > tol
    if np.any(complex_ & unstable):
        return "unstable focus"
    return "unstable node" if np.all(unstable) else "saddle"


def stability(
    engine: Engine, options: StabilityOptions | None = None, eigenvalues: np.ndarray | None = None
) -> StabilityReport:
    """Classify the engine's current state (a steady state), with a time course when borderline.

    ``eigenvalues`` defaults to :meth:`Engine.eigenvalues`; pass a
    :class:`SteadyStateResult`'s instead (``result.eigenvalues``): the engine
    replaces libRoadRunner's analytic reduced Jacobian by central differences
    when the two disagree (BIOMD0000000628). The engine is left at the steady
    state it was given.
    """
    opts = options or StabilityOptions()
    eig = np.asarray(engine.eigenvalues() if eigenvalues is None else eigenvalues, dtype=complex)
    kind = classify_fixed_point(eig, opts.eigen_rtol)
    if eig.size == 0:
        return StabilityReport(kind, eig, None, False)
    top = float(eig.real.max())
    scale = float(np.abs(eig).max())
    borderline = kind in ("marginal", "unstable focus", "unstable node", "saddle") or abs(top) < opts.borderline_rtol * scale
    if not borderline or engine.rate_rule_ids or not engine.floating_ids:
        return StabilityReport(kind, eig, top, borderline)
    growth, oscillates, t_end = _confirm_by_time_course(engine, top, opts)
    return StabilityReport(kind, eig, top, True, growth, oscillates, t_end)


def _confirm_by_time_course(engine: Engine, top: float, opts: StabilityOptions) -> tuple[float, bool, float]:
    from epl_sysbio.analysis.network import SpeciesNetwork

    net = SpeciesNetwork(engine)
    c0 = net.concentrations()
    amounts0 = c0 * net.volumes
    rng = np.random.default_rng(opts.seed)
    # A random direction within the conservation laws, each species moved relative to its own
    # size: y in range(D^-1 V^-1 N) with D = diag(|c0|), c = c0 (1 + y).
    scale = np.abs(c0) + 1e-12 * float(np.abs(c0).max())
    q = np.linalg.qr(net.basis / scale[:, None])[0] if net.basis.shape[1] else net.basis
    y = q @ rng.standard_normal(q.shape[1])
    y *= opts.perturbation / max(float(np.abs(y).max()), 1e-300)
    engine.set_amounts(dict(zip(net.species, np.maximum(c0 + scale * y, 0.0) * net.volumes)))
    t_end = float(min(opts.t_cap, opts.horizon / max(abs(top), 1e-12)))
    trace = engine.time_course(t_end, 401, [f"[{s}]" for s in net.species])
    dev = (trace[:, 1:] - c0[None, :]) / scale[None, :]
    d0, d1 = float(np.linalg.norm(dev[0])), float(np.linalg.norm(dev[-1]))
    lead = dev @ y
    oscillates = int(np.sum(np.diff(np.sign(lead[np.abs(lead) > 0])) != 0)) >= 4
    engine.set_amounts(dict(zip(net.species, np.maximum(amounts0, 0.0))))  # rounding can leave -1e-31
    engine.roadrunner.model.setTime(0.0)
    return d1 / max(d0, 1e-300), oscillates, t_end
