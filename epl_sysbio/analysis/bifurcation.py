"""Fold and Hopf points of steady states: minimally augmented systems, normal forms, codim-2 tests.

Everything is written on :class:`~epl_sysbio.analysis.continuation.EquilibriumSystem`
(reduced, scaled coordinates ``y``, scaled parameters ``pi``, ``A = G_y``).

**Fold (limit point, LP).** ``A`` is singular. The test function ``sigma`` of
the minimally augmented system (Govaerts 2000; MATCONT, BifurcationKit) solves

    [ A    a ] [ v     ]   [ 0 ]            [ A^T  b ] [ w ]   [ 0 ]
    [ b^T  0 ] [ sigma ] = [ 1 ],           [ a^T  0 ] [ s ] = [ 1 ]

(``a``, ``b`` approximate left and right null vectors, refreshed at every
accepted point: the zero set of ``sigma`` does not depend on them). A fold is
a solution of ``G = 0, sigma = 0``: one parameter free, a square system solved
by Newton (the *location*); two parameters free, a curve (the *fold curve*).

**Hopf (H).** ``A`` has eigenvalues ``+-i omega``; ``sigma`` is complex:

    [ A - i omega I   a ] [ v     ]   [ 0 ]
    [ b^H             0 ] [ sigma ] = [ 1 ]

and a Hopf point solves ``G = 0, Re sigma = 0, Im sigma = 0`` with ``omega``
one more unknown (BifurcationKit's formulation).

**Derivatives of sigma** (differentiate ``M [v; sigma] = e`` and multiply by
the adjoint solution ``[w; s]^H``): with ``D_x A`` the derivative of ``A``
along a direction ``x`` (central differences of the exact Jacobian),

    d sigma / dy     = -(D_v A)^T conj(w)
    d sigma / dpi_k  = -w^H (dA/dpi_k) v
    d sigma / domega = i w^H v.

**Normal forms** (Kuznetsov, *Elements of Applied Bifurcation Theory*, 3rd ed.,
sections 3.4-3.5 and 8.7), in *concentration* coordinates: ``q`` is
normalised by the Euclidean norm of the concentration change it makes
(``|D Q q| = 1``), so the values are those of the model's own variables
restricted to the conservation class; only their signs are coordinate-free.
With ``B``, ``C`` the second and third derivatives of the vector field:

* fold: ``a = 1/2 <p, B(q, q)>``, ``A q = 0``, ``A^T p = 0``, ``<p, q> = 1``,
  ``q`` oriented so that its largest concentration component is positive
  (the sign of ``a`` depends on that orientation);
* Hopf: ``A q = i omega q``, ``A^T p = -i omega p``, ``<p, q> = conj(p)^T q = 1``,

      l1 = 1/(2 omega) Re[ <p, C(q, q, conj q)> - 2 <p, B(q, A^-1 B(q, conj q))>
                            + <p, B(conj q, (2 i omega I - A)^-1 B(q, q))> ]

  ``l1 < 0``: supercritical (a stable limit cycle is born), ``l1 > 0``:
  subcritical. ``B(x, z) = (D_x A) z``; ``C(x, x, z) = (D_x^2 A) z`` for real
  ``x`` and, by polarisation, ``C(q, q, z) = C(qr, qr, z) - C(qi, qi, z)
  + i/2 [C(qr+qi, qr+qi, z) - C(qr-qi, qr-qi, z)]``.

**Codimension-two test functions**, zero where a curve meets the point:

* on a fold curve: cusp (CP) ``w^T B(v, v)`` (the fold's quadratic
  coefficient vanishes), Bogdanov-Takens (BT) ``w^T v`` (the null vector is
  also in the range: a double zero eigenvalue);
* on a Hopf curve: BT ``omega`` (the pair meets at zero; the curve ends
  there), generalised Hopf (GH, Bautin) ``l1``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from epl_sysbio.analysis.continuation import CurvePoint, CurveProblem, EquilibriumSystem

__all__ = [
    "FoldSystem",
    "HopfSystem",
    "first_lyapunov_coefficient",
    "fold_coefficient",
    "newton_square",
]


def _bordered(matrix: np.ndarray, a: np.ndarray, b: np.ndarray):
    """Solve ``[M a; b^H 0] [v; sigma] = e`` and the adjoint; returns v, sigma, w."""
    n = len(matrix)
    big = np.zeros((n + 1, n + 1), dtype=matrix.dtype)
    big[:n, :n] = matrix
    big[:n, n] = a
    big[n, :n] = b.conj()
    e = np.zeros(n + 1, dtype=matrix.dtype)
    e[n] = 1.0
    direct = np.linalg.solve(big, e)
    adjoint = np.linalg.solve(big.conj().T, e)
    return direct[:n], direct[n], adjoint[:n]


class _Augmented(CurveProblem):
    """Shared layout: ``u = (y, pi[free], [omega])``; the other parameters fixed."""

    def __init__(self, system: EquilibriumSystem, free: Sequence[int], pi_fixed: np.ndarray,
                 a: np.ndarray, b: np.ndarray) -> None:
        self.system = system
        self.free = tuple(free)
        self.pi = np.asarray(pi_fixed, dtype=float).copy()
        self.a, self.b = a / np.linalg.norm(a), b / np.linalg.norm(b)
        self.last: dict = {}

    def split(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = self.system.n
        pi = self.pi.copy()
        pi[list(self.free)] = u[n:n + len(self.free)]
        return u[:n], pi

    def accept(self, u: np.ndarray) -> None:
        if self.last.get("u") is None or not np.array_equal(self.last["u"], u):
            self.evaluate(u)
        v, w = self.last["v"], self.last["w"]
        self.b, self.a = v / np.linalg.norm(v), w / np.linalg.norm(w)

    def _sigma_derivatives(self, y, pi, v, w) -> tuple[np.ndarray, np.ndarray]:
        """``d sigma/dy`` and ``d sigma/dpi`` for the free parameters (module docstring)."""
        sys = self.system
        s_y = -(sys.d_jacobian(y, pi, v).T @ w.conj())
        s_p = np.array([-(w.conj() @ (sys.dp_jacobian(y, pi, k) @ v)) for k in self.free])
        return s_y, s_p


class FoldSystem(_Augmented):
    """``R = (G, sigma)`` with unknowns ``(y, pi[free])``: square for one free parameter
    (locating a fold), a curve for two (the fold curve)."""

    def evaluate(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y, pi = self.split(u)
        g, g_y, g_p = self.system.evaluate(y, pi)
        v, sigma, w = _bordered(g_y, self.a, self.b)
        s_y, s_p = self._sigma_derivatives(y, pi, v, w)
        self.last = {"u": u.copy(), "v": v, "w": w, "sigma": sigma, "jacobian": g_y}
        r = np.append(g, sigma)
        jac = np.vstack([np.hstack([g_y, g_p[:, list(self.free)]]), np.append(s_y, s_p)])
        return r, jac

    def tests(self, point: CurvePoint) -> dict[str, float]:
        """Cusp ``w^T B(v, v)`` and Bogdanov-Takens ``w^T v`` (unit ``v``, ``w``)."""
        self.evaluate(point.u)
        y, pi = self.split(point.u)
        v = self.last["v"] / np.linalg.norm(self.last["v"])
        w = self.last["w"] / np.linalg.norm(self.last["w"])
        return {"CP": float(w @ (self.system.d_jacobian(y, pi, v) @ v)), "BT": float(w @ v)}


class HopfSystem(_Augmented):
    """``R = (G, Re sigma, Im sigma)`` with unknowns ``(y, pi[free], omega)``."""

    def evaluate(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y, pi = self.split(u)
        omega = u[-1]
        g, g_y, g_p = self.system.evaluate(y, pi)
        n = self.system.n
        v, sigma, w = _bordered(g_y - 1j * omega * np.eye(n), self.a, self.b)
        s_y, s_p = self._sigma_derivatives(y, pi, v, w)
        s_omega = 1j * (w.conj() @ v)
        self.last = {"u": u.copy(), "v": v, "w": w, "sigma": sigma, "jacobian": g_y}
        r = np.concatenate([g, [sigma.real, sigma.imag]])
        top = np.hstack([g_y, g_p[:, list(self.free)], np.zeros((n, 1))])
        row = np.concatenate([s_y, s_p, [s_omega]])
        return r, np.vstack([top, row.real, row.imag])

    def tests(self, point: CurvePoint) -> dict[str, float]:
        """Bogdanov-Takens ``omega`` and generalised Hopf ``l1``."""
        y, pi = self.split(point.u)
        return {"BT": float(point.u[-1]), "GH": first_lyapunov_coefficient(self.system, y, pi, abs(point.u[-1]))}


def newton_square(problem: CurveProblem, u0: np.ndarray, tol: float = 1e-12, max_iter: int = 30) -> np.ndarray | None:
    """Newton on a square augmented system; borders refreshed at every iterate. None unless
    ``max|du| <= tol`` within ``max_iter`` iterations."""
    u = np.asarray(u0, dtype=float).copy()
    for _ in range(max_iter):
        try:
            r, jac = problem.evaluate(u)
            du = np.linalg.solve(jac, -r)
        except np.linalg.LinAlgError:
            return None
        u = u + du
        if not np.all(np.isfinite(u)):
            return None
        problem.accept(u)
        if np.max(np.abs(du)) <= tol:
            return u
    return None


def _null_vectors(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Right and left singular vectors of the smallest singular value (``M q ~ 0``, ``M^H p ~ 0``)."""
    u, _, vh = np.linalg.svd(matrix)
    return vh[-1].conj(), u[:, -1]


def fold_coefficient(system: EquilibriumSystem, y: np.ndarray, pi: np.ndarray) -> float:
    """Quadratic normal-form coefficient ``a = 1/2 <p, B(q, q)>`` of a fold (module docstring)."""
    q, p = _null_vectors(system.jacobian(y, pi))
    dc = system.lift @ q.real
    q = q.real / np.linalg.norm(dc) * np.sign(dc[np.argmax(np.abs(dc))])  # orientation: see module docstring
    p = p.real / (p.real @ q)
    return float(0.5 * p @ (system.d_jacobian(y, pi, q) @ q))


def first_lyapunov_coefficient(system: EquilibriumSystem, y: np.ndarray, pi: np.ndarray, omega: float) -> float:
    """Kuznetsov's ``l1`` at a Hopf point with frequency ``omega`` (module docstring)."""
    a = system.jacobian(y, pi)
    n = len(a)
    q, p = _null_vectors(a - 1j * omega * np.eye(n))
    q = q / np.linalg.norm(system.lift @ q)  # unit concentration change
    p = p / np.conj(p.conj() @ q)  # <p, q> = 1

    def bilinear(x: np.ndarray, z: np.ndarray) -> np.ndarray:
        return system.d_jacobian(y, pi, x) @ z

    def cubic_qq(z: np.ndarray) -> np.ndarray:
        qr, qi = q.real, q.imag
        second = {name: system.d2_jacobian(y, pi, x) @ z
                  for name, x in (("r", qr), ("i", qi), ("+", qr + qi), ("-", qr - qi))}
        return second["r"] - second["i"] + 0.5j * (second["+"] - second["-"])

    b_qq = bilinear(q, q)
    b_qqbar = bilinear(q, q.conj())
    term_c = p.conj() @ cubic_qq(q.conj())
    term_b1 = p.conj() @ bilinear(q, np.linalg.solve(a, b_qqbar))
    term_b2 = p.conj() @ bilinear(q.conj(), np.linalg.solve(2j * omega * np.eye(n) - a, b_qq))
    return float((term_c - 2 * term_b1 + term_b2).real / (2 * omega))


def hopf_start(system: EquilibriumSystem, y: np.ndarray, pi: np.ndarray) -> tuple[float, np.ndarray, np.ndarray] | None:
    """``omega`` and borders (right, left eigenvectors) of the complex pair nearest the imaginary
    axis at ``(y, pi)``; None without a complex pair."""
    a = system.jacobian(y, pi)
    eig = np.linalg.eigvals(a)
    tol = 1e-9 * max(1.0, float(np.abs(eig).max(initial=0.0)))
    pairs = np.flatnonzero(eig.imag > tol)
    if not len(pairs):
        return None
    lam = eig[pairs[np.argmin(np.abs(eig[pairs].real))]]
    omega = float(lam.imag)
    q, p = _null_vectors(a - 1j * omega * np.eye(len(a)))
    return omega, p, q


def fold_start(system: EquilibriumSystem, y: np.ndarray, pi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Borders (left, right) for the fold system: the near-null singular vectors of ``A``."""
    q, p = _null_vectors(system.jacobian(y, pi))
    return p.real, q.real
