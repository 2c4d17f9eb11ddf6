"""The edge of chaos of random recurrent networks, seen through the speed potential.

The network is ``dx/dt = F(x) = -x + J tanh(x)`` with ``N`` neurons and
Gaussian couplings, ``Var J_ij = g^2/N`` and ``corr(J_ij, J_ji) = gamma``.
Following Qiu & Huang (2024), its non-equilibrium steady states are described by
the *speed potential* ``E(x) = |F(x)|^2 / 2`` (zero exactly at the fixed
points) and the measure ``P(x) ~ exp(-beta E(x))``.

This module provides

* :func:`coupling_matrix`: the random couplings;
* :func:`speed`, :func:`speed_potential`, :func:`speed_potential_gradient`;
* :func:`simulate_activity` and :func:`estimate_transition`: direct simulation
  and the decay / persistent-activity transition;
* :func:`minimise_speed_potential`: zero-temperature minimisation (fixed points);
* :func:`langevin_speed_potential`: Langevin sampling of ``exp(-beta E)``;
* :func:`mean_field`: the static mean-field (cavity) equations;
* :func:`spectrum_edge`, :func:`elliptic_spectrum_edge`: the real-part edge of
  the Jacobian at ``x = 0``;
* :func:`fixed_point_order_parameters`: ``C`` and ``R`` measured at a fixed point.

Shapes: a state is ``(N,)``; a batch of states is ``(N, B)`` (one column per
chain or per gain), so that ``J @ tanh(X)`` is one matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import brentq, minimize

from epl_sysbio.errors import InvalidValueError
from epl_sysbio.errors import check_parameter as _check

__all__ = [
    "coupling_matrix",
    "speed",
    "speed_potential",
    "speed_potential_gradient",
    "SimulationOptions",
    "simulate_activity",
    "TransitionEstimate",
    "estimate_transition",
    "minimise_speed_potential",
    "LangevinOptions",
    "LangevinResult",
    "langevin_speed_potential",
    "MeanFieldSolution",
    "mean_field",
    "spectrum_edge",
    "elliptic_spectrum_edge",
    "fixed_point_order_parameters",
]


# --------------------------------------------------------------------------- couplings


def coupling_matrix(n: int, g: float, gamma: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian couplings with ``Var J_ij = g^2/n`` and ``corr(J_ij, J_ji) = gamma``.

    ``J = g/sqrt(n) * (a S + b A)`` with ``S = (X + X^T)/sqrt(2)`` symmetric and
    ``A = (Y - Y^T)/sqrt(2)`` antisymmetric (``X, Y`` i.i.d. standard normal),
    ``a = sqrt((1+gamma)/2)``, ``b = sqrt((1-gamma)/2)``: off the diagonal
    ``Var = a^2 + b^2 = 1`` and ``Cov(J_ij, J_ji) = a^2 - b^2 = gamma``. The
    diagonal is drawn separately with the same variance ``g^2/n``.

    Parameters
    ----------
    n : int
        Number of neurons (>= 2).
    g : float
        Gain, >= 0.
    gamma : float
        Symmetry, in [-1, 1].
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray, shape (n, n)
    """
    _check("coupling_matrix", "n", int(n) == n and n >= 2, "an integer >= 2", n)
    _check("coupling_matrix", "g", np.isfinite(g) and g >= 0, "a float in [0, inf)", g)
    _check("coupling_matrix", "gamma", -1.0 <= gamma <= 1.0, "a float in [-1, 1]", gamma)
    n = int(n)
    x = rng.standard_normal((n, n))
    y = rng.standard_normal((n, n))
    a, b = np.sqrt((1.0 + gamma) / 2.0), np.sqrt((1.0 - gamma) / 2.0)
    j = a * (x + x.T) / np.sqrt(2.0) + b * (y - y.T) / np.sqrt(2.0)
    j[np.diag_indices(n)] = rng.standard_normal(n)
    return (g / np.sqrt(n)) * j


# --------------------------------------------------------------------------- speed potential


def speed(x: np.ndarray, coupling: np.ndarray) -> np.ndarray:
    """``F(x) = -x + J tanh(x)``; ``x`` of shape (N,) or (N, B), same shape out."""
    return -x + coupling @ np.tanh(x)


def speed_potential(x: np.ndarray, coupling: np.ndarray) -> np.ndarray:
    """``E(x) = |F(x)|^2 / 2``; shape () for ``x`` (N,), shape (B,) for ``x`` (N, B)."""
    f = speed(x, coupling)
    return 0.5 * np.sum(f * f, axis=0)


def speed_potential_gradient(x: np.ndarray, coupling: np.ndarray) -> np.ndarray:
    """``grad E = J_F(x)^T F(x)`` with ``J_F = -I + J diag(tanh'(x))``.

    So ``grad E = -F + tanh'(x) * (J^T F)`` (elementwise product), computed with
    two matrix products. Same shape as ``x``.
    """
    t = np.tanh(x)
    f = -x + coupling @ t
    return -f + (1.0 - t * t) * (coupling.T @ f)


# --------------------------------------------------------------------------- direct simulation


@dataclass(frozen=True, kw_only=True)
class SimulationOptions:
    """Explicit Euler integration of ``dx/dt = -x + g J0 tanh(x)``.

    Attributes
    ----------
    dt : float
        Time step (units of the neuron time constant). Euler maps the linear
        stability boundary ``g(1+gamma) = 1`` onto itself for any ``dt < 1``
        (the ellipse of eigenvalues touches 0 at the real edge, where the
        Euler factor is ``1 + dt mu`` with real ``mu``), so ``0.1`` is enough.
    t_end : float
        Final time.
    record_every : int
        Record the RMS activity every this many steps.
    """

    dt: float = 0.1
    t_end: float = 200.0
    record_every: int = 10

    def __post_init__(self) -> None:
        _check("SimulationOptions", "dt", 0 < self.dt < 1, "a float in (0, 1)", self.dt)
        _check("SimulationOptions", "t_end", self.t_end > self.dt, "a float > dt", self.t_end)
        _check(
            "SimulationOptions", "record_every", int(self.record_every) == self.record_every
            and self.record_every >= 1, "an integer >= 1", self.record_every,
        )


def simulate_activity(
    unit_coupling: np.ndarray,
    gains: np.ndarray,
    x0: np.ndarray,
    options: SimulationOptions = SimulationOptions(),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate one network at several gains at once.

    Column ``k`` integrates ``dx/dt = -x + g_k J0 tanh(x)`` with the same unit
    couplings ``J0`` (``g = 1``), so a gain scan costs one matrix product per step.

    Parameters
    ----------
    unit_coupling : numpy.ndarray, shape (N, N)
        ``J0``, drawn with ``g = 1``.
    gains : numpy.ndarray, shape (G,)
        The gains ``g_k``.
    x0 : numpy.ndarray, shape (N,)
        Common initial state.
    options : SimulationOptions

    Returns
    -------
    times : numpy.ndarray, shape (T,)
    rms : numpy.ndarray, shape (T, G)
        RMS activity ``sqrt(mean_i x_i^2)`` at the recorded times.
    x_final : numpy.ndarray, shape (N, G)
        State at ``t_end``.
    """
    gains = np.asarray(gains, dtype=float)
    x = np.repeat(np.asarray(x0, dtype=float)[:, None], gains.size, axis=1)
    n_steps = int(round(options.t_end / options.dt))
    times, rms = [0.0], [np.sqrt(np.mean(x * x, axis=0))]
    for step in range(1, n_steps + 1):
        x = x + options.dt * (-x + (unit_coupling @ np.tanh(x)) * gains)
        if step % options.record_every == 0:
            times.append(step * options.dt)
            rms.append(np.sqrt(np.mean(x * x, axis=0)))
    return np.asarray(times), np.asarray(rms), x


@dataclass(frozen=True)
class TransitionEstimate:
    """Where activity stops decaying, from a gain scan.

    Attributes
    ----------
    g : float
        Transition gain: zero of the straight line fitted to the late decay
        rates of the runs that clearly decayed (see :func:`estimate_transition`).
    rates : numpy.ndarray, shape (G,)
        Late-time exponential rate of the RMS activity for each gain.
    decayed : numpy.ndarray of bool, shape (G,)
        Runs whose final RMS activity is below ``decay_threshold``.
    last_decayed : float
        Largest gain that decayed.
    first_persistent : float
        Smallest gain whose activity persisted: not decayed and a late rate
        above ``-1e-3`` (saturated, not merely critically slow); NaN if none.
    """

    g: float
    rates: np.ndarray
    decayed: np.ndarray
    last_decayed: float
    first_persistent: float


def estimate_transition(
    gains: np.ndarray, times: np.ndarray, rms: np.ndarray, decay_threshold: float = 1e-4
) -> TransitionEstimate:
    """Locate the decay / persistent-activity transition of a gain scan.

    The late rate of run ``k`` is the least-squares slope of ``log rms`` over the
    last 40 % of the run. Close to the transition decay is critically slow, so a
    run that has not yet decayed below ``decay_threshold`` says little; but runs
    that did decay sit in the linear regime, where the rate is
    ``r(g) = g rho - 1`` (``rho`` the real-part edge of ``J0``'s spectrum). The
    transition is the zero of the straight line fitted to ``r`` over the decayed
    runs, ``g* = -intercept / slope``.

    Parameters
    ----------
    gains : numpy.ndarray, shape (G,), increasing
    times : numpy.ndarray, shape (T,)
    rms : numpy.ndarray, shape (T, G)
    decay_threshold : float
        RMS activity below which a run counts as decayed.

    Returns
    -------
    TransitionEstimate
    """
    gains = np.asarray(gains, dtype=float)
    late = times >= times[0] + 0.6 * (times[-1] - times[0])
    log_rms = np.log(np.maximum(rms[late], 1e-300))
    rates = np.polyfit(times[late], log_rms, 1)[0]
    decayed = rms[-1] < decay_threshold
    if decayed.sum() < 2:
        raise InvalidValueError(
            "estimate_transition needs at least two decayed runs to fit the decay rate; "
            f"got {int(decayed.sum())} of {gains.size}. Scan lower gains or run longer."
        )
    slope, intercept = np.polyfit(gains[decayed], rates[decayed], 1)
    persistent = gains[~decayed & (rates > -1e-3)]
    return TransitionEstimate(
        g=float(-intercept / slope),
        rates=rates,
        decayed=decayed,
        last_decayed=float(gains[decayed].max()),
        first_persistent=float(persistent.min()) if persistent.size else float("nan"),
    )


# --------------------------------------------------------------------------- zero temperature


def minimise_speed_potential(
    coupling: np.ndarray, x0: np.ndarray, *, gtol: float = 1e-10, max_iter: int = 20000
) -> tuple[np.ndarray, float]:
    """Zero-temperature limit of ``exp(-beta E)``: a local minimum of ``E`` by L-BFGS.

    A minimum with ``E = 0`` is a fixed point of ``dx/dt = F(x)``; a minimum
    with ``E > 0`` is a "slow point", not a fixed point.

    Parameters
    ----------
    coupling : numpy.ndarray, shape (N, N)
    x0 : numpy.ndarray, shape (N,)
    gtol, max_iter : float, int
        L-BFGS stopping rule: ``max_i |grad_i E| <= gtol`` or ``max_iter`` iterations.

    Returns
    -------
    x : numpy.ndarray, shape (N,)
    energy : float
        ``E(x)``.
    """

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        return float(speed_potential(x, coupling)), speed_potential_gradient(x, coupling)

    res = minimize(fun, np.asarray(x0, float), jac=True, method="L-BFGS-B",
                   options={"gtol": gtol, "ftol": 0.0, "maxiter": max_iter, "maxcor": 30})
    return res.x, float(res.fun)


# --------------------------------------------------------------------------- Langevin


@dataclass(frozen=True, kw_only=True)
class LangevinOptions:
    """Euler-Maruyama Langevin sampling of ``exp(-beta E)``.

    ``x <- x - step * grad E(x) + sqrt(2 step / beta) * xi``, ``xi ~ N(0, I)``.
    For a quadratic mode of stiffness ``k`` this samples a variance
    ``1/(beta k (1 - step k / 2))``: the relative bias of the energy is about
    ``step * k / 2``. With ``k`` of order ``(1 + g)^2`` a step of ``2e-3`` keeps
    it below 1 %; the scripts check it by halving the step.

    Attributes
    ----------
    step : float
        Time step of the discretised Langevin equation.
    n_burn : int
        Steps discarded before averaging.
    n_samples : int
        Steps averaged after burn-in.
    record_every : int
        Keep every this many steps.
    """

    step: float = 2e-3
    n_burn: int = 20000
    n_samples: int = 20000
    record_every: int = 10

    def __post_init__(self) -> None:
        _check("LangevinOptions", "step", 0 < self.step < 0.1, "a float in (0, 0.1)", self.step)
        for name in ("n_burn", "n_samples", "record_every"):
            value = getattr(self, name)
            low = 0 if name == "n_burn" else 1
            _check("LangevinOptions", name, int(value) == value and value >= low,
                   f"an integer >= {low}", value)


@dataclass(frozen=True)
class LangevinResult:
    """Outcome of :func:`langevin_speed_potential`.

    Attributes
    ----------
    energy_per_neuron : float
        ``<E>/N`` averaged over samples and chains.
    energy_per_neuron_sem : float
        Standard error from the spread between chains.
    trace : numpy.ndarray, shape (T, B)
        ``E/N`` at every recorded step (burn-in included), per chain.
    x : numpy.ndarray, shape (N, B)
        Final states.
    """

    energy_per_neuron: float
    energy_per_neuron_sem: float
    trace: np.ndarray
    x: np.ndarray


def langevin_speed_potential(
    coupling: np.ndarray,
    x0: np.ndarray,
    beta: float,
    rng: np.random.Generator,
    options: LangevinOptions = LangevinOptions(),
) -> LangevinResult:
    """Sample ``P(x) ~ exp(-beta E(x))`` with ``B`` independent Langevin chains.

    Near a fixed point ``E`` is a quadratic form with ``N`` modes, so equipartition
    predicts ``<E>/N = 1/(2 beta)`` at low temperature, independent of ``g``.

    Parameters
    ----------
    coupling : numpy.ndarray, shape (N, N)
    x0 : numpy.ndarray, shape (N, B)
        Initial states (e.g. zero-temperature minima).
    beta : float
        Inverse temperature, > 0.
    rng : numpy.random.Generator
    options : LangevinOptions

    Returns
    -------
    LangevinResult
    """
    _check("langevin_speed_potential", "beta", np.isfinite(beta) and beta > 0,
           "a float in (0, inf)", beta)
    x = np.array(x0, dtype=float, copy=True)
    if x.ndim == 1:
        x = x[:, None]
    n = x.shape[0]
    noise = np.sqrt(2.0 * options.step / beta)
    trace = []
    for step in range(options.n_burn + options.n_samples):
        x = x - options.step * speed_potential_gradient(x, coupling) \
            + noise * rng.standard_normal(x.shape)
        if step % options.record_every == 0:
            trace.append(speed_potential(x, coupling) / n)
    trace = np.asarray(trace)
    kept = trace[int(np.ceil(options.n_burn / options.record_every)):]
    per_chain = kept.mean(axis=0)
    sem = per_chain.std(ddof=1) / np.sqrt(per_chain.size) if per_chain.size > 1 else float("nan")
    return LangevinResult(float(per_chain.mean()), float(sem), trace, x)


# --------------------------------------------------------------------------- mean field

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(160)
# Half-line Gauss-Legendre rule on u in [0, 8] for E[f(u)], u ~ N(0, 1), f even:
# E[f] = 2 * int_0^inf f(u) phi(u) du. The integrands below are even in z because
# the root x(z) is odd in z; integrating over z > 0 only also avoids quadrature
# across the branch jump of x(z) at z = 0 when w > 1.
_U = 4.0 + 4.0 * _NODES
_W = 2.0 * 4.0 * _WEIGHTS * np.exp(-0.5 * _U**2) / np.sqrt(2.0 * np.pi)


def _solve_local_field(z: np.ndarray, w: float) -> np.ndarray:
    """The root of ``x = z + w tanh(x)`` for ``z > 0`` on the branch ``x > 0``.

    For ``w <= 1`` the root is unique. For ``w > 1`` and small ``z`` there are
    three roots; we keep the outer one with the sign of ``z`` (the only positive
    root, the branch continuously connected to large ``|z|``, with
    ``1 - w tanh'(x) > 0``, i.e. a positive, stable local response). Newton from
    ``x = z + w`` converges monotonically because ``f(x) = x - w tanh x - z`` is
    convex for ``x > 0`` and ``f(z + w) >= 0``.
    """
    x = z + max(w, 0.0)
    for _ in range(100):
        t = np.tanh(x)
        step = (x - w * t - z) / (1.0 - w * (1.0 - t * t))
        x = x - step
        if np.max(np.abs(step) / (1.0 + np.abs(x))) < 1e-13:
            break
    return x


@dataclass(frozen=True)
class MeanFieldSolution:
    """Solution of the static mean-field equations at one ``(g, gamma)``.

    Attributes
    ----------
    g, gamma : float
    C : float
        ``<tanh(x)^2>``.
    R : float
        Local response of ``tanh(x)`` (see :func:`mean_field` for the two forms).
    w : float
        Reaction-term coefficient ``g^2 gamma R``.
    response : str
        Which response equation was solved.
    """

    g: float
    gamma: float
    C: float
    R: float
    w: float
    response: str


def _response_and_c(
    g: float, gamma: float, c: float, response: str
) -> tuple[float, float, bool]:
    """Solve the ``R`` equation at fixed ``C``; return ``(R, <tanh(x)^2>, converged)``.

    Fixed-point iteration from ``R = 0``: the map is increasing in ``R``, so it
    converges to the smallest root, the one continuous with the physical branch
    ``R = 1/(1 - w)`` at ``C = 0``. For small ``C`` above ``g_c`` with
    ``4 g^2 gamma > 1`` there is no root (``R`` grows without bound); this is
    reported as not converged.
    """
    z = g * np.sqrt(c) * _U
    r, converged = 0.0, False
    for _ in range(500):
        w = g * g * gamma * r
        x = _solve_local_field(z, w)
        dphi = 1.0 - np.tanh(x) ** 2
        if response == "cavity":
            r_new = float(np.sum(_W * dphi / (1.0 - w * dphi)))
        else:
            r_new = float(np.sum(_W * dphi)) * (1.0 + w * r)
        done = abs(r_new - r) <= 1e-12 * max(1.0, abs(r_new))
        r = r_new
        if done:
            converged = True
            break
    x = _solve_local_field(z, g * g * gamma * r)
    return r, float(np.sum(_W * np.tanh(x) ** 2)), converged


def mean_field(
    g: float, gamma: float, response: Literal["factorised", "cavity"] = "factorised"
) -> MeanFieldSolution:
    """Static mean-field (cavity) theory of the fixed points / zero-temperature measure.

    Equations, with ``phi = tanh``::

        x = z + w phi(x),     z ~ N(0, g^2 C),     w = g^2 gamma R
        C = <phi(x)^2>

    and one of two response equations:

    * ``"factorised"`` (DESIGN.md's form, the default):
      ``R = <phi'(x)> (1 + w R)``, i.e. ``R = <phi'(x)(1 + w R)>`` with ``R`` a
      constant: the average of ``phi' * dx/dh`` replaced by the product of
      averages, ``dx/dh ~ 1 + w R``.
    * ``"cavity"``: the exact local response of ``phi(x)`` to a field ``h`` added
      to ``x = h + z + w phi(x)``: ``dx/dh = 1/(1 - w phi')``, so
      ``R = <phi'(x) / (1 - w phi'(x))>``.

    Both coincide when ``C = 0`` (``x = 0``, ``phi' = 1``), where
    ``R = 1/(1 - g^2 gamma R)``, i.e.
    ``R = (1 - sqrt(1 - 4 g^2 gamma)) / (2 g^2 gamma)``, which equals ``1 + gamma``
    at ``g_c = 1/(1 + gamma)``. They differ slightly above ``g_c``
    (``C(0.8, 0.5)`` = 0.1785 factorised, 0.1885 cavity).

    ``C = 0`` always solves the equations. The nontrivial root is a zero of
    ``excess(C) = <phi(x)^2>/C - 1``, which is negative at ``C = 1``; for small
    ``C`` it tends to ``g^2/(1-w)^2 - 1``, positive exactly when
    ``g(1 + gamma) > 1``. We walk down ``C = 1, 1/2, 1/4, ...`` (to ``1e-10``)
    until ``excess > 0`` and refine the bracket with Brent's method
    (``xtol = 1e-13``); if no bracket is found, ``C = 0``.

    Parameters
    ----------
    g : float, >= 0
    gamma : float, in [0, 1)
    response : {"factorised", "cavity"}

    Returns
    -------
    MeanFieldSolution

    Raises
    ------
    InvalidValueError
        If above ``g_c`` the response equation fails before a bracket is found.
    """
    _check("mean_field", "g", np.isfinite(g) and g >= 0, "a float in [0, inf)", g)
    _check("mean_field", "gamma", 0.0 <= gamma < 1.0, "a float in [0, 1)", gamma)
    _check("mean_field", "response", response in ("factorised", "cavity"),
           "one of 'factorised', 'cavity'", response)

    def excess(c: float) -> float:
        return _response_and_c(g, gamma, c, response)[1] / c - 1.0

    upper, c = 1.0, 0.0
    for k in range(1, 34):
        lower = 2.0**-k
        r, c_out, converged = _response_and_c(g, gamma, lower, response)
        if not converged:
            if g * (1.0 + gamma) > 1.0:
                raise InvalidValueError(
                    f"mean_field(g={g}, gamma={gamma}, response={response!r}) found no "
                    f"solution of the response equation at C = {lower:.3g} before "
                    "bracketing C; this point is outside what the solver handles."
                )
            break
        if c_out / lower - 1.0 > 0.0:
            c = brentq(excess, lower, upper, xtol=1e-13, rtol=1e-12)
            break
        upper = lower
    if c > 0.0:
        r = _response_and_c(g, gamma, c, response)[0]
    elif gamma == 0.0 or g == 0.0:
        r = 1.0  # x = 0, phi' = 1, w = 0
    else:
        # x = 0: R = 1 + w R with w = g^2 gamma R, the smaller root.
        r = (1.0 - np.sqrt(max(1.0 - 4.0 * g * g * gamma, 0.0))) / (2.0 * g * g * gamma)
    return MeanFieldSolution(float(g), float(gamma), float(c), float(r),
                             float(g * g * gamma * r), response)


# --------------------------------------------------------------------------- spectra, fixed points


def elliptic_spectrum_edge(g: float, gamma: float) -> float:
    """Real-part edge of the Jacobian ``-I + J`` at ``x = 0`` for ``N -> inf``.

    Elliptic law: the eigenvalues of ``J`` fill the ellipse with semi-axes
    ``g(1 + gamma)`` (real) and ``g(1 - gamma)`` (imaginary); the edge of
    ``-I + J`` is ``g(1 + gamma) - 1``, zero at ``g_c = 1/(1 + gamma)``.
    """
    return g * (1.0 + gamma) - 1.0


def spectrum_edge(coupling: np.ndarray) -> float:
    """Largest real part of the eigenvalues of the Jacobian ``-I + J`` at ``x = 0``."""
    return float(np.max(np.linalg.eigvals(coupling).real)) - 1.0


def fixed_point_order_parameters(coupling: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """``C`` and the local response ``R`` measured at a fixed point ``x``.

    ``C = mean_i tanh(x_i)^2``. With a field ``h``, ``x = J phi(x) + h`` gives
    ``dx/dh = (I - J D)^-1``, ``D = diag(phi'(x))``, and the response of ``phi``
    is ``D (I - J D)^-1``; ``R = tr(D (I - J D)^-1) / N``.

    Returns
    -------
    C, R : float
    """
    n = x.size
    d = 1.0 - np.tanh(x) ** 2
    # Solve (I - J D) Y = I for Y; R = tr(D Y)/N.
    y = np.linalg.solve(np.eye(n) - coupling * d[None, :], np.eye(n))
    return float(np.mean(np.tanh(x) ** 2)), float(np.sum(d * np.diag(y)) / n)
