"""One RDS network on the compiled kernel: its arrays, conservation laws, state and solvers.

:class:`NativeDynamics` turns an :class:`RdsSpec` into the arrays the kernel
(:mod:`epl_sysbio.dynamics.kernel`) reads, in microseconds and without
compiling anything: every network runs on the same machine code. Its state
is the generated SBML's floating species (:attr:`NativeDynamics.ids`: node
amounts ``x_<gene>_<space>``, then momenta ``p_<gene>_<space>`` of the nodes
on a Hamiltonian edge), so that a state can be handed to libRoadRunner by id
(compartments have size 1: amounts are concentrations).

Conservation laws are those libRoadRunner's moiety analysis finds: the left
null space of the stoichiometric matrix of the SBML's reactions (chemical,
diffusion, the two halves of each Hamiltonian edge, a collision reaction for
every momentum, a reservoir reaction where h > 0), structural, whatever the
rates. :meth:`NativeDynamics.conserved_totals` reads them in an orthonormal
basis ``G`` (``G @ N = 0``).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.linalg

from epl_sysbio.dynamics import kernel
from epl_sysbio.dynamics.spec import RdsSpec
from epl_sysbio.errors import InvalidValueError

__all__ = ["NativeDynamics", "NativeRun", "NewtonResult", "jit_warmup"]

#: Names of the kernel's status codes.
STATUS_NAMES = {kernel.OK: "ok", kernel.FAILED: "failed", kernel.TOO_STIFF: "too_stiff",
                kernel.TIME_CAP: "time_cap", kernel.DIVERGED: "diverged"}


@dataclass(frozen=True)
class NativeRun:
    """How one kernel integration ended.

    ``status`` is ``"ok"``, ``"failed"`` (step size underflow or non-finite
    values), ``"too_stiff"`` (the work cap) or, for :meth:`NativeDynamics.relax`,
    ``"time_cap"`` or ``"diverged"``; ``time`` the model time reached;
    ``attempts`` the RODAS3 step attempts it took; ``trace`` the recorded
    outputs (time first); ``largest`` the largest absolute amount at the end
    (nan if any is nan).
    """

    status: str
    time: float
    attempts: int
    trace: np.ndarray
    largest: float = 0.0


class NativeDynamics:
    """The state and solvers of one :class:`RdsSpec` on the compiled kernel.

    Parameters
    ----------
    spec : RdsSpec

    Attributes
    ----------
    ids : tuple of str
        State ids in kernel order: node amounts, then momenta.
    y : ndarray, shape (len(ids),)
        The current state (starts at the spec's initial amounts, momenta 0).
    """

    def __init__(self, spec: RdsSpec) -> None:
        if not isinstance(spec, RdsSpec):
            raise InvalidValueError(f"NativeDynamics expects an RdsSpec, got {type(spec).__name__}.")
        self.spec = spec
        nodes = spec.nodes
        n = len(nodes)
        momentum = list(spec.momentum_nodes)
        nm = len(momentum)
        mom = np.full(n, -1, dtype=np.int64)
        mom[momentum] = np.arange(nm)
        ix = spec.node_index
        r1, r2, pr, k = spec.chemical_edges()
        ha = [ix[e.gene, e.a] for e in spec.hamiltonian]
        hb = [ix[e.gene, e.b] for e in spec.hamiltonian]
        charges = spec.charges()
        ints = lambda v: np.asarray(v, dtype=np.int64)  # noqa: E731
        floats = lambda v: np.ascontiguousarray(v, dtype=np.float64)  # noqa: E731
        self.n, self.nm = n, nm
        self.net = (
            n, nm, mom, floats(1.0 + spec.potentials()), floats(1.0 / spec.masses()),
            floats(spec.electric_matrix()), ints(np.flatnonzero(charges != 0)),
            floats([nd.reservoir for nd in nodes]), floats([nd.friction for nd in nodes]),
            r1, r2, pr, k,
            ints(ha), ints(hb), floats([e.rate for e in spec.hamiltonian]),
        )
        self.ids = tuple(nd.species_id for nd in nodes) + tuple(nodes[i].momentum_id for i in momentum)
        self.index = {sid: i for i, sid in enumerate(self.ids)}
        self.stoichiometry = self._stoichiometry(r1, r2, pr, ha, hb, momentum)
        self.independent, self.conservation = _conservation(self.stoichiometry)
        ny = len(self.ids)
        # The Jacobian's structure is read off the kernel's own Jacobian, so the net must have its
        # final types already (numba compiles once per tuple type): placeholders, then the real thing.
        self.net += (np.arange(ny), np.ones((ny, ny), np.bool_), np.zeros(ny + 1, np.int64), np.empty(0, np.int64),
                     np.zeros(ny + 1, np.int64), np.empty(0, np.int64))
        self.net = self.net[:16] + kernel.symbolic_lu(self._structure())
        self.y = np.concatenate([[nd.initial_amount for nd in nodes], np.zeros(nm)])

    def _structure(self) -> np.ndarray:
        """Where the Jacobian can be non-zero: the union of its non-zeros at two random states
        (positive amounts, non-zero momenta), where no entry of the structure vanishes by chance."""
        rng = np.random.default_rng(0)
        ny = len(self.ids)
        pattern = np.zeros((ny, ny), dtype=bool)
        for _ in range(2):
            momenta = rng.uniform(0.5, 2.0, self.nm) * rng.choice([-1.0, 1.0], self.nm)
            y = np.concatenate([rng.uniform(0.5, 2.0, self.n), momenta])
            jm = np.empty((ny, ny))
            kernel.jacobian(y, self.net, jm, np.empty(self.n), np.empty(self.n))
            pattern |= jm != 0.0
        return pattern

    def _stoichiometry(self, r1, r2, pr, ha, hb, momentum) -> np.ndarray:
        """N, shape (ny, n_reactions), columns as the generated SBML's reactions."""
        n, ny = self.n, len(self.ids)
        cols = []
        for i, j, m in zip(r1, r2, pr):
            col = np.zeros(ny)
            col[i] -= 1
            if j >= 0:
                col[j] -= 1
            col[m] += 1
            cols.append(col)
        mom = self.net[2]
        for a, b in zip(ha, hb):
            col = np.zeros(ny)
            col[a], col[b] = -1, 1
            cols.append(col)
            col = np.zeros(ny)
            col[n + mom[b]], col[n + mom[a]] = -1, 1
            cols.append(col)
        for i in momentum:
            col = np.zeros(ny)
            col[n + mom[i]] = -1
            cols.append(col)
        for i, nd in enumerate(self.spec.nodes):
            if nd.reservoir > 0:
                col = np.zeros(ny)
                col[i] = 1
                cols.append(col)
        return np.column_stack(cols) if cols else np.zeros((ny, 0))

    # ---------------------------------------------------------------- reading
    def rhs(self, y: np.ndarray | None = None) -> np.ndarray:
        """F(y) = dy/dt (at the current state by default), shape (ny,)."""
        y = self.y if y is None else np.ascontiguousarray(y, dtype=float)
        f = np.empty(len(self.ids))
        kernel.rhs(y, self.net, f, np.empty(self.n), np.empty(self.n))
        return f

    def jacobian(self, y: np.ndarray | None = None) -> np.ndarray:
        """dF/dy (at the current state by default), shape (ny, ny)."""
        y = self.y if y is None else np.ascontiguousarray(y, dtype=float)
        jm = np.empty((len(self.ids), len(self.ids)))
        kernel.jacobian(y, self.net, jm, np.empty(self.n), np.empty(self.n))
        return jm

    def residual(self) -> float:
        """norm(F) at the current state."""
        return float(np.linalg.norm(self.rhs()))

    def conserved_totals(self) -> np.ndarray:
        """G @ y, shape (n_laws,): constant along every trajectory; moved by injections."""
        return self.conservation @ self.y

    def amounts(self) -> dict[str, float]:
        """The current state by id."""
        return dict(zip(self.ids, self.y.tolist()))

    # ---------------------------------------------------------------- solvers
    def integrate(self, t_end: float, points: int, out_index: np.ndarray, *, rtol: float, atol: float,
                  max_steps: int) -> NativeRun:
        """Integrate the state over ``[0, t_end]``, recording ``y[out_index]`` at ``points`` equal times."""
        out_index = np.asarray(out_index, dtype=np.int64)
        trace = np.empty((points, 1 + len(out_index)))
        status, t, _, attempts = kernel.integrate(
            self.y, float(t_end), int(points), out_index, trace, float(rtol), float(atol), -1.0,
            int(max_steps), self.net)
        done = points if status == kernel.OK else 0
        return NativeRun(STATUS_NAMES[status], t, attempts, trace[:done], float(kernel.largest(self.y)))

    def relax(self, t_max: float, *, atol: float, rtol: float, integrator_rtol: float, integrator_atol: float,
              max_steps: int, max_amount: float = np.inf, first_step: float = 0.1) -> NativeRun:
        """Integrate until ``norm(F) <= atol + rtol * norm(y)`` (status ``"ok"``) or ``t_max`` (``"time_cap"``).

        Chunks double in length from ``first_step`` up to ``kernel.MAX_CHUNK``; an amount above
        ``max_amount`` at a chunk's end ends it as ``"diverged"``.
        """
        status, t, attempts = kernel.relax(self.y, float(t_max), float(first_step), float(atol), float(rtol),
                                           float(integrator_rtol), float(integrator_atol), int(max_steps),
                                           float(max_amount), self.net)
        return NativeRun(STATUS_NAMES[status], t, attempts, np.empty((0, 1)))

    def newton(self, *, atol: float, rtol: float, max_iter: int = 50) -> NewtonResult:
        """The kernel's Newton to the steady state with the current conserved totals
        (:func:`~epl_sysbio.dynamics.kernel.newton`). The state changes only if it converges."""
        y = self.y.copy()
        ok, iterations, residual, norm_state = kernel.newton(y, self.independent, self.conservation, float(atol),
                                                             float(rtol), int(max_iter), self.net)
        if ok:
            self.y = y
        return NewtonResult(bool(ok), int(iterations), float(residual), float(norm_state))

    def add(self, index: np.ndarray, amounts: np.ndarray) -> float:
        """Add ``amounts`` to the state at ``index`` (in place); returns the largest absolute amount after."""
        return float(kernel.add(self.y, index, amounts))


class NewtonResult(NamedTuple):
    """How :meth:`NativeDynamics.newton` ended: converged or not, iterations, and ``norm(F)``, ``norm(y)``
    at the answer (``inf``, 0 when it failed)."""

    converged: bool
    iterations: int
    residual: float
    norm_state: float


def _conservation(stoichiometry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of N at a maximal set of independent species (sorted), and an orthonormal basis of N's left null space."""
    ny, nr = stoichiometry.shape
    if nr == 0:
        return np.empty(0, np.int64), np.eye(ny)
    _, r, perm = scipy.linalg.qr(stoichiometry.T, pivoting=True, mode="economic")
    diag = np.abs(np.diag(r))
    rank = int(np.count_nonzero(diag > 1e-10 * max(1.0, diag.max(initial=0.0))))
    independent = np.sort(perm[:rank]).astype(np.int64)
    laws = scipy.linalg.null_space(stoichiometry.T, rcond=1e-10).T
    return independent, np.ascontiguousarray(laws.reshape(ny - rank, ny))


def jit_warmup() -> float:
    """Load (or, on a machine's first run, compile) every kernel function; returns the seconds it took.

    Ctrl-C during the load is held until it ends, then raised: numba loads and compiles through LLVM
    callbacks, and a ``KeyboardInterrupt`` raised inside one is swallowed ("Exception ignored on calling
    ctypes callback function"), which lost the Ctrl-C.
    """
    import time

    from epl_sysbio.dynamics.examples import appendix_b_spec

    t0 = time.perf_counter()
    with _interrupt_held():
        dyn = NativeDynamics(appendix_b_spec())
        dyn.jacobian()
        dyn.integrate(0.1, 3, np.array([0]), rtol=1e-4, atol=1e-8, max_steps=100)
        dyn.newton(atol=1e-8, rtol=1e-6)
        dyn.relax(1.0, atol=1e-8, rtol=1e-6, integrator_rtol=1e-4, integrator_atol=1e-8, max_steps=100)
    return time.perf_counter() - t0


@contextlib.contextmanager
def _interrupt_held():
    """Hold SIGINT for the block and raise ``KeyboardInterrupt`` after it, where Python's default handler is
    installed in the main thread (elsewhere, e.g. in workers that ignore SIGINT, nothing changes)."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    held: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if held:
        raise KeyboardInterrupt
