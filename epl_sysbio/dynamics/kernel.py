"""The compiled EPL kernel: flows, analytic Jacobian, a stiff integrator and a Newton settle, in numba.

Everything here is a plain function over arrays, compiled once (``cache=True``:
the machine code is kept on disk, so only the first run on a machine pays for
the JIT) and shared by every network: a network is a tuple of arrays, the
*net* built by :class:`~epl_sysbio.dynamics.native.NativeDynamics`, never code.

State ``y`` (length ``ny = n + nm``): the n node amounts x, then the momenta
of the nm nodes on a Hamiltonian edge (the only ones whose momentum can leave
0), exactly the floating species of the generated SBML
(:mod:`epl_sysbio.dynamics.sbml`). With psi the excess potential,

    psi_i = 1 + a_i + (V x)_i + p_i^2 / (2 m_i),    z_i = exp(mu_i) = x_i exp(psi_i)

the flows are (DESIGN.md section 2; :mod:`.reference` is the NumPy twin)::

    chemical     J_r = k_r (z_i z_j - z_l)            x_i + x_j -> x_l   (diffusion: z_j = 1)
    Hamiltonian  jx  = v (w_b - w_a) x_a x_b          x_a -> x_b,  w = x p / m
                 jp  = v (mu_b - mu_a) x_a x_b        p_b -> p_a
    collision    dp_i -= c_i x_i p_i / m_i
    homeostasis  dx_i += h_i (exp(-psi_i) - x_i)

The net tuple, in this order::

    n, nm        ints: nodes, momentum nodes
    mom          int64[n]: position of node i's momentum in the p part of y, or -1
    a1           float64[n]: 1 + a_i
    minv         float64[n]: 1 / m_i
    V            float64[n, n]: the electric matrix (non-zero only between charged nodes)
    qi           int64[nq]: the charged nodes
    h, c         float64[n]: reservoir rate, friction
    r1, r2, pr   int64[R]: chemical edges (r2 = -1 for diffusion), k float64[R]
    ha, hb       int64[H]: Hamiltonian edges a -> b, v float64[H]
    perm, mask, lptr, lidx, uptr, uidx
                 the Jacobian's sparse structure under a fill-reducing order (:func:`symbolic_lu`)

Solvers (status codes in :data:`OK`, :data:`FAILED`, :data:`TOO_STIFF`):

- :func:`integrate`: RODAS3 (Sandu, Verwer, Blom, Spee, Carmichael & Potra,
  "Benchmarking stiff ODE solvers for atmospheric chemistry problems II:
  Rosenbrock solvers", Atmos. Environ. 31, 1997), a 4-stage L-stable,
  stiffly accurate Rosenbrock method of order 3 with an embedded order-2
  error estimate, on the exact Jacobian. Its second stage evaluates F where
  the first did, so an attempt costs two new right-hand sides and four
  solves with one factorisation of ``W = I / (h gamma) - J``: measured on the
  paper preset's networks it took about as many steps as RODAS4 (6 stages)
  at the learner's tolerances for 60-80 % of the time. W is factored on the
  network's sparse structure without row exchanges when every pivot passes a
  threshold test, else by dense partial pivoting. One Jacobian and
  right-hand side per step, reused while a rejected step is retried with a
  smaller h; the first step of a call is estimated from ``norm(F)``. Steps
  never cross an output time. A node decaying to a tiny equilibrium amount
  may dip below 0 by about the tolerance, as with CVODE; the flows stay
  defined there (see :func:`_log_ratio`). The work
  cap counts step attempts between two output times (``max_steps``);
  exceeding it is ``TOO_STIFF``.
- :func:`newton`: Newton's method on ``[F_indep(y); G y - T] = 0`` where
  ``F_indep`` are rows of F at a maximal set of independent species and ``G``
  spans the conservation laws of the stoichiometric matrix (``G N = 0``), so
  the conserved totals ``T`` of the starting state (after an injection) are
  kept exactly. Steps are damped to keep every amount positive (at most 99 %
  of the way to 0) and by backtracking on ``norm(F)``; at most ``max_iter``
  iterations: it cannot loop for ever.
- :func:`relax`: integrate in chunks whose length doubles from ``first_step``
  up to :data:`MAX_CHUNK` until the residual test
  ``norm(F) <= atol + rtol * norm(y)`` passes at the end of a chunk, or ``t_max``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["OK", "FAILED", "TOO_STIFF", "TIME_CAP", "DIVERGED", "MAX_CHUNK", "rhs", "jacobian", "integrate",
           "newton", "relax", "residual_ok", "symbolic_lu", "largest", "add", "newton_accepted"]

OK, FAILED, TOO_STIFF, TIME_CAP, DIVERGED = 0, 1, 2, 3, 4
_TINY = 1e-300

#: Longest chunk of a relaxation (model time): the work cap counts steps per chunk, so chunks
#: stop doubling here lest a long, slowly decaying oscillation count as too stiff.
MAX_CHUNK = 12.8

_JIT = dict(cache=True, nogil=True, error_model="numpy")

# ------------------------------------------------------------------------------------------ flows
@njit(**_JIT)
def _potentials(y, net, psi, e):
    """psi (excess potential) and e = exp(psi) of every node."""
    n, nm, mom, a1, minv, V, qi = net[0], net[1], net[2], net[3], net[4], net[5], net[6]
    for i in range(n):
        psi[i] = a1[i]
    for ii in range(qi.size):
        i = qi[ii]
        s = 0.0
        for jj in range(qi.size):
            j = qi[jj]
            s += V[i, j] * y[j]
        psi[i] += s
    for i in range(n):
        if mom[i] >= 0:
            p = y[n + mom[i]]
            psi[i] += 0.5 * p * p * minv[i]
        e[i] = math.exp(psi[i])


@njit(**_JIT)
def _log_ratio(xb, xa):
    """ln(xb / xa); an amount at or below _TINY (an integration error can take a node decaying to a
    tiny equilibrium just below 0, where ln is undefined) is taken as _TINY, so the flow stays finite."""
    if xa > _TINY and xb > _TINY:
        return math.log(xb / xa)
    return math.log(max(xb, _TINY)) - math.log(max(xa, _TINY))


@njit(**_JIT)
def rhs(y, net, f, psi, e):
    """f = dy/dt at y (psi and e are work arrays of length n, left holding psi and exp(psi))."""
    n, mom, minv = net[0], net[2], net[4]
    h, c, r1, r2, pr, k, ha, hb, v = net[7], net[8], net[9], net[10], net[11], net[12], net[13], net[14], net[15]
    _potentials(y, net, psi, e)
    f[:] = 0.0
    for r in range(k.size):
        i, j, m = r1[r], r2[r], pr[r]
        zj = y[j] * e[j] if j >= 0 else 1.0
        flux = k[r] * (y[i] * e[i] * zj - y[m] * e[m])
        f[i] -= flux
        if j >= 0:
            f[j] -= flux
        f[m] += flux
    for q in range(v.size):
        a, b = ha[q], hb[q]
        pa, pb = n + mom[a], n + mom[b]
        xa, xb = y[a], y[b]
        cab = xa * xb
        jx = v[q] * (xb * y[pb] * minv[b] - xa * y[pa] * minv[a]) * cab
        f[a] -= jx
        f[b] += jx
        jp = v[q] * (_log_ratio(xb, xa) + psi[b] - psi[a]) * cab
        f[pb] -= jp
        f[pa] += jp
    for i in range(n):
        if mom[i] >= 0:
            f[n + mom[i]] -= c[i] * y[i] * y[n + mom[i]] * minv[i]
        if h[i] > 0.0:
            f[i] += h[i] * (1.0 / e[i] - y[i])


@njit(**_JIT)
def jacobian(y, net, jm, psi, e):
    """jm = dF/dy at y, dense (ny, ny); psi and e are work arrays as in :func:`rhs`."""
    n, mom, minv, V, qi = net[0], net[2], net[4], net[5], net[6]
    h, c, r1, r2, pr, k, ha, hb, v = net[7], net[8], net[9], net[10], net[11], net[12], net[13], net[14], net[15]
    _potentials(y, net, psi, e)
    jm[:, :] = 0.0
    for r in range(k.size):
        i, j, m = r1[r], r2[r], pr[r]
        zi = y[i] * e[i]
        zj = y[j] * e[j] if j >= 0 else 1.0
        # dJ = k (zj dz_i + zi dz_j - dz_m), dz_l = e_l dx_l + z_l (V_l. dx + p_l / m_l dp_l);
        # rows i and j lose J, row m gains it.
        for t in range(3):
            node = i if t == 0 else (j if t == 1 else m)
            if node < 0:
                continue
            coef = k[r] * (zj if t == 0 else (zi if t == 1 else -1.0))
            gx = coef * e[node]
            cz = coef * y[node] * e[node]
            pm = n + mom[node] if mom[node] >= 0 else -1
            gp = cz * y[pm] * minv[node] if pm >= 0 else 0.0
            for u in range(3):
                row = i if u == 0 else (j if u == 1 else m)
                if row < 0:
                    continue
                sg = 1.0 if u == 2 else -1.0
                jm[row, node] += sg * gx
                for jj in range(qi.size):
                    q = qi[jj]
                    jm[row, q] += sg * cz * V[node, q]
                if pm >= 0:
                    jm[row, pm] += sg * gp
    for q in range(v.size):
        a, b = ha[q], hb[q]
        pa, pb = n + mom[a], n + mom[b]
        xa, xb, Pa, Pb, ma, mb, vq = y[a], y[b], y[pa], y[pb], minv[a], minv[b], v[q]
        cab = xa * xb
        dw = xb * Pb * mb - xa * Pa * ma
        # jx = v (w_b - w_a) x_a x_b: row a loses it, row b gains it.
        gxa = vq * (-Pa * ma * cab + dw * xb)
        gxb = vq * (Pb * mb * cab + dw * xa)
        gpa = -vq * xa * ma * cab
        gpb = vq * xb * mb * cab
        jm[a, a] -= gxa
        jm[a, b] -= gxb
        jm[a, pa] -= gpa
        jm[a, pb] -= gpb
        jm[b, a] += gxa
        jm[b, b] += gxb
        jm[b, pa] += gpa
        jm[b, pb] += gpb
        # jp = v (mu_b - mu_a) x_a x_b, mu = ln x + psi: row p_a gains it, row p_b loses it.
        dmu = _log_ratio(xb, xa) + psi[b] - psi[a]
        gxa = vq * (dmu * xb - xb)  # d(ln x_a)/dx_a * x_a x_b = x_b
        gxb = vq * (dmu * xa + xa)
        gpa = -vq * cab * Pa * ma
        gpb = vq * cab * Pb * mb
        jm[pa, a] += gxa
        jm[pa, b] += gxb
        jm[pa, pa] += gpa
        jm[pa, pb] += gpb
        jm[pb, a] -= gxa
        jm[pb, b] -= gxb
        jm[pb, pa] -= gpa
        jm[pb, pb] -= gpb
        for jj in range(qi.size):
            j = qi[jj]
            g = vq * cab * (V[b, j] - V[a, j])
            jm[pa, j] += g
            jm[pb, j] -= g
    for i in range(n):
        if mom[i] >= 0:
            pm = n + mom[i]
            jm[pm, i] -= c[i] * y[pm] * minv[i]
            jm[pm, pm] -= c[i] * y[i] * minv[i]
        if h[i] > 0.0:
            en = 1.0 / e[i]
            jm[i, i] -= h[i]
            for jj in range(qi.size):
                j = qi[jj]
                jm[i, j] -= h[i] * en * V[i, j]
            if mom[i] >= 0:
                pm = n + mom[i]
                jm[i, pm] -= h[i] * en * y[pm] * minv[i]


# ------------------------------------------------------------------------------------------ linear algebra
@njit(**_JIT)
def _lu(a, piv):
    """In-place LU with partial pivoting; False if a pivot is 0 or not finite."""
    m = a.shape[0]
    for kk in range(m):
        p = kk
        big = abs(a[kk, kk])
        for i in range(kk + 1, m):
            if abs(a[i, kk]) > big:
                big = abs(a[i, kk])
                p = i
        piv[kk] = p
        if not (big > 0.0) or not math.isfinite(big):
            return False
        if p != kk:
            for j in range(m):
                tmp = a[kk, j]
                a[kk, j] = a[p, j]
                a[p, j] = tmp
        inv = 1.0 / a[kk, kk]
        for i in range(kk + 1, m):
            a[i, kk] *= inv
            fct = a[i, kk]
            if fct != 0.0:
                for j in range(kk + 1, m):
                    a[i, j] -= fct * a[kk, j]
    return True


@njit(**_JIT)
def _lu_solve(a, piv, b):
    """Solve in place with the factors of :func:`_lu`."""
    m = a.shape[0]
    for kk in range(m):
        p = piv[kk]
        if p != kk:
            tmp = b[kk]
            b[kk] = b[p]
            b[p] = tmp
    for i in range(1, m):
        s = b[i]
        for j in range(i):
            s -= a[i, j] * b[j]
        b[i] = s
    for i in range(m - 1, -1, -1):
        s = b[i]
        for j in range(i + 1, m):
            s -= a[i, j] * b[j]
        b[i] = s / a[i, i]


@njit(**_JIT)
def symbolic_lu(pattern):
    """A fill-reducing order and the fill pattern of an LU factorisation without pivoting.

    ``pattern`` (ny, ny) bool is the structure of the matrices to factor (the
    diagonal is added). The order is minimum degree on the symmetrised
    pattern (ties to the lowest index). Returns ``(perm, mask, lptr, lidx,
    uptr, uidx)``: the permuted matrix is ``B[i, j] = W[perm[i], perm[j]]``;
    ``mask`` its filled structure; for pivot k, ``lidx[lptr[k]:lptr[k+1]]``
    are the rows below it in column k and ``uidx[uptr[k]:uptr[k+1]]`` the
    columns right of it in row k.
    """
    ny = pattern.shape[0]
    g = np.zeros((ny, ny), np.bool_)
    for i in range(ny):
        for j in range(ny):
            if pattern[i, j] or pattern[j, i] or i == j:
                g[i, j] = True
    alive = np.ones(ny, np.bool_)
    perm = np.empty(ny, np.int64)
    for k in range(ny):
        best, best_deg = -1, ny + 1
        for v in range(ny):
            if alive[v]:
                deg = 0
                for u in range(ny):
                    if alive[u] and g[v, u]:
                        deg += 1
                if deg < best_deg:
                    best, best_deg = v, deg
        perm[k] = best
        alive[best] = False
        for a in range(ny):  # the eliminated node's neighbours become a clique
            if alive[a] and g[best, a]:
                for b in range(ny):
                    if alive[b] and g[best, b]:
                        g[a, b] = True
    mask = np.zeros((ny, ny), np.bool_)
    for i in range(ny):
        for j in range(ny):
            mask[i, j] = pattern[perm[i], perm[j]] or i == j
    for k in range(ny):
        for i in range(k + 1, ny):
            if mask[i, k]:
                for j in range(k + 1, ny):
                    if mask[k, j]:
                        mask[i, j] = True
    lptr = np.zeros(ny + 1, np.int64)
    uptr = np.zeros(ny + 1, np.int64)
    for k in range(ny):
        nl, nu = 0, 0
        for i in range(k + 1, ny):
            if mask[i, k]:
                nl += 1
            if mask[k, i]:
                nu += 1
        lptr[k + 1] = lptr[k] + nl
        uptr[k + 1] = uptr[k] + nu
    lidx = np.empty(lptr[ny], np.int64)
    uidx = np.empty(uptr[ny], np.int64)
    for k in range(ny):
        a, b = lptr[k], uptr[k]
        for i in range(k + 1, ny):
            if mask[i, k]:
                lidx[a] = i
                a += 1
            if mask[k, i]:
                uidx[b] = i
                b += 1
    return perm, mask, lptr, lidx, uptr, uidx


@njit(**_JIT)
def _sparse_lu(bm, lptr, lidx, uptr, uidx):
    """In-place LU without pivoting on the filled structure; False unless every pivot passes the
    threshold test ``|b_kk| >= 0.01 * max_i |b_ik|`` (then the factors are as stable as threshold
    pivoting's and need no row exchanges)."""
    ny = bm.shape[0]
    for k in range(ny):
        p = bm[k, k]
        big = 0.0
        for q in range(lptr[k], lptr[k + 1]):
            big = max(big, abs(bm[lidx[q], k]))
        if not (abs(p) > 0.0) or not math.isfinite(p) or abs(p) < 0.01 * big:
            return False
        inv = 1.0 / p
        for q in range(lptr[k], lptr[k + 1]):
            i = lidx[q]
            bm[i, k] *= inv
            fct = bm[i, k]
            for r in range(uptr[k], uptr[k + 1]):
                j = uidx[r]
                bm[i, j] -= fct * bm[k, j]
    return True


@njit(**_JIT)
def _sparse_solve(bm, perm, lptr, lidx, uptr, uidx, b, x):
    """b <- W^-1 b with the factors of :func:`_sparse_lu` (x is work space)."""
    ny = bm.shape[0]
    for i in range(ny):
        x[i] = b[perm[i]]
    for k in range(ny):
        xk = x[k]
        if xk != 0.0:
            for q in range(lptr[k], lptr[k + 1]):
                x[lidx[q]] -= bm[lidx[q], k] * xk
    for k in range(ny - 1, -1, -1):
        acc = x[k]
        for r in range(uptr[k], uptr[k + 1]):
            acc -= bm[k, uidx[r]] * x[uidx[r]]
        x[k] = acc / bm[k, k]
    for i in range(ny):
        b[perm[i]] = x[i]


@njit(**_JIT)
def _norm(v):
    s = 0.0
    for i in range(v.size):
        s += v[i] * v[i]
    return math.sqrt(s)


@njit(**_JIT)
def residual_ok(y, f, atol, rtol):
    """The residual test ``norm(F) <= atol + rtol * norm(y)``."""
    return _norm(f) <= atol + rtol * _norm(y)


@njit(**_JIT)
def largest(y):
    """The largest ``abs(y[i])``; nan if any entry is nan."""
    big = 0.0
    for i in range(y.size):
        a = abs(y[i])
        if a != a:
            return a
        if a > big:
            big = a
    return big


@njit(**_JIT)
def add(y, index, amounts):
    """y[index] += amounts (in place); returns :func:`largest` of the result."""
    for i in range(index.size):
        y[index[i]] += amounts[i]
    return largest(y)


@njit(**_JIT)
def newton_accepted(y, y0, nonnegative, atol, rtol, residual, norm_state, max_drop):
    """The learner's acceptance of a Newton answer y found from y0 (epl_sysbio.epl.backends):
    finite, ``residual <= atol + rtol * norm_state``, and every entry marked ``nonnegative`` at
    least ``-atol`` and at least ``max_drop`` times its start."""
    if not (residual <= atol + rtol * norm_state):
        return False
    for i in range(y.size):
        if not math.isfinite(y[i]):
            return False
        if nonnegative[i] and (y[i] < -atol or y[i] < max_drop * y0[i]):
            return False
    return True


@njit(**_JIT)
def _finite(v):
    for i in range(v.size):
        if not math.isfinite(v[i]):
            return False
    return True


# ------------------------------------------------------------------------------------------ RODAS3
@njit(**_JIT)
def _linear_workspace(ny, net):
    """Storage for factoring W = c I - J: dense (w, piv), sparse (bm, x), the flag saying which holds
    the factors, and the network's sparse structure (``net[16:22]``, from :func:`symbolic_lu`)."""
    return (np.empty((ny, ny)), np.empty(ny, np.int64), np.empty((ny, ny)), np.empty(ny), np.zeros(1, np.bool_),
            net[16], net[17], net[18], net[19], net[20], net[21])


@njit(**_JIT)
def _factor_w(lin, jm, c):
    """Factor W = c I - J: on the network's sparse structure when its pivots pass the threshold test,
    else (also when J has an entry outside the structure) by dense partial pivoting."""
    w, piv, bm, x, dense, perm, mask, lptr, lidx, uptr, uidx = lin
    ny = jm.shape[0]
    inside = True
    for i in range(ny):
        pi = perm[i]
        for j in range(ny):
            v = -jm[pi, perm[j]]
            if not mask[i, j] and v != 0.0:
                inside = False
            bm[i, j] = v
        bm[i, i] += c
    if inside and _sparse_lu(bm, lptr, lidx, uptr, uidx):
        dense[0] = False
        return True
    dense[0] = True
    for i in range(ny):
        for j in range(ny):
            w[i, j] = -jm[i, j]
        w[i, i] += c
    return _lu(w, piv)


@njit(**_JIT)
def _solve_w(lin, b):
    """b <- W^-1 b with the factors of :func:`_factor_w`."""
    w, piv, bm, x, dense, perm, mask, lptr, lidx, uptr, uidx = lin
    if dense[0]:
        _lu_solve(w, piv, b)
    else:
        _sparse_solve(bm, perm, lptr, lidx, uptr, uidx, b, x)


@njit(**_JIT)
def _rodas_attempt(y, h, f0, jm, net, lin, ks, ys, f, psi, e, ynew, rtol, atol):
    """One RODAS3 step (Sandu et al. 1997: 4 stages, order 3, L-stable, stiffly accurate; the second
    stage evaluates F where the first did, so 2 new right-hand sides per attempt); k4 is the error."""
    n, ny = net[0], y.size
    if not _factor_w(lin, jm, 2.0 / h):
        return np.inf
    k1, k2, k3, k4 = ks[0], ks[1], ks[2], ks[3]
    k1[:] = f0
    _solve_w(lin, k1)
    for i in range(ny):
        k2[i] = f0[i] + 4.0 / h * k1[i]
    _solve_w(lin, k2)
    for i in range(ny):
        ys[i] = y[i] + 2.0 * k1[i]
    rhs(ys, net, f, psi, e)
    for i in range(ny):
        k3[i] = f[i] + (k1[i] - k2[i]) / h
    _solve_w(lin, k3)
    for i in range(ny):
        ys[i] = y[i] + 2.0 * k1[i] + k3[i]
    rhs(ys, net, f, psi, e)
    for i in range(ny):
        k4[i] = f[i] + (k1[i] - k2[i] - 8.0 / 3.0 * k3[i]) / h
    _solve_w(lin, k4)
    err = 0.0
    for i in range(ny):
        ynew[i] = ys[i] + k4[i]
        sc = atol + rtol * max(abs(y[i]), abs(ynew[i]))
        err += (k4[i] / sc) ** 2
    err = math.sqrt(err / ny)
    if not math.isfinite(err):
        return np.inf
    return err


@njit(**_JIT)
def integrate(y, t_end, n_out, out_idx, trace, rtol, atol, h0, max_steps, net):
    """Integrate y (in place) over [0, t_end] with RODAS3, recording ``y[out_idx]`` at n_out equally spaced times.

    ``trace`` has shape (n_out, 1 + len(out_idx)), time first; with n_out < 2
    nothing is recorded. ``h0`` is the first step to try (<= 0: an estimate
    from ``norm(F)``). Returns ``(status, t_reached, h_next, attempts)``:
    status OK, FAILED (step size underflow or non-finite values), or TOO_STIFF
    (more than ``max_steps`` attempts between two output times).
    """
    n, ny = net[0], y.size
    jm = np.empty((ny, ny))
    lin = _linear_workspace(ny, net)
    ks = np.empty((4, ny))
    ys = np.empty(ny)
    f = np.empty(ny)
    f0 = np.empty(ny)
    ynew = np.empty(ny)
    psi = np.empty(n)
    e = np.empty(n)
    n_sel = out_idx.size
    if n_out >= 2:
        trace[0, 0] = 0.0
        for j in range(n_sel):
            trace[0, 1 + j] = y[out_idx[j]]
    n_int = n_out - 1 if n_out >= 2 else 1
    t = 0.0
    total = 0
    h = h0
    rhs(y, net, f0, psi, e)
    if not _finite(f0):
        return FAILED, t, h, total
    if not (h > 0.0):
        # |h F| about rtol * |y| (Hairer's first guess, without the second evaluation).
        d0 = _norm(y) + atol
        d1 = _norm(f0)
        h = 0.01 * t_end if d1 <= 1e-12 * d0 else min(t_end, 0.01 * d0 / d1)
    h_min = 1e-14 * max(t_end, 1.0)
    for interval in range(n_int):
        t_out = t_end * (interval + 1) / n_int
        attempts = 0
        while t < t_out * (1.0 - 1e-14):
            jacobian(y, net, jm, psi, e)
            while True:
                hs = min(h, t_out - t)
                attempts += 1
                total += 1
                if attempts > max_steps:
                    return TOO_STIFF, t, h, total
                err = _rodas_attempt(y, hs, f0, jm, net, lin, ks, ys, f, psi, e, ynew, rtol, atol)
                if err <= 1.0:
                    break
                # Rejected: shrink (at most by 5, at least by 0.2) and retry on the same Jacobian.
                fac = 0.2 if not math.isfinite(err) else max(0.2, min(0.9, 0.9 * err ** (-1.0 / 3.0)))
                h = hs * fac
                if h < h_min:
                    return FAILED, t, h, total
            t = t_out if hs >= t_out - t else t + hs
            for i in range(ny):
                y[i] = ynew[i]
            rhs(y, net, f0, psi, e)
            if not _finite(f0):
                return FAILED, t, h, total
            # Next step: grow by at most 6 (as Hairer's rodas.f); a step clipped to an output
            # time keeps the step the controller wanted.
            grow = 6.0 if err == 0.0 else min(6.0, 0.9 * err ** (-1.0 / 3.0))
            h = max(h, hs * grow) if hs < h else hs * grow
        if n_out >= 2:
            trace[interval + 1, 0] = t_out
            for j in range(n_sel):
                trace[interval + 1, 1 + j] = y[out_idx[j]]
    return OK, t, h, total


@njit(**_JIT)
def relax(y, t_max, first_step, atol, rtol, int_rtol, int_atol, max_steps, max_amount, net):
    """Integrate y (in place) in chunks of doubling length (at most MAX_CHUNK) until the residual test
    passes or t_max.

    Returns ``(status, t, attempts)`` with status OK (converged), TIME_CAP,
    DIVERGED (an amount above ``max_amount`` at a chunk's end), FAILED or
    TOO_STIFF (a chunk needed more than ``max_steps`` attempts).
    """
    n, ny = net[0], y.size
    f = np.empty(ny)
    psi = np.empty(n)
    e = np.empty(n)
    empty_idx = np.empty(0, np.int64)
    trace = np.empty((0, 1))
    t = 0.0
    step = first_step
    h = -1.0
    total = 0
    while True:
        rhs(y, net, f, psi, e)
        if not _finite(f):
            return FAILED, t, total
        if residual_ok(y, f, atol, rtol):
            return OK, t, total
        for i in range(ny):
            if abs(y[i]) > max_amount:
                return DIVERGED, t, total
        if t >= t_max:
            return TIME_CAP, t, total
        span = min(step, t_max - t)
        # n_out as a run-time 0 (empty_idx.size), not the literal: a literal 0 makes numba compile a second
        # specialisation of integrate, a third of the kernel's first compile
        status, reached, h, attempts = integrate(y, span, empty_idx.size, empty_idx, trace, int_rtol, int_atol, h,
                                                 max_steps, net)
        total += attempts
        if status != OK:
            return status, t + reached, total
        t += span
        step = min(2.0 * step, MAX_CHUNK)


# ------------------------------------------------------------------------------------------ Newton
@njit(**_JIT)
def _newton_residual(y, f, indep, G, totals, out):
    """out = [F(y)[indep]; G y - totals]; returns its norm."""
    r = indep.size
    for ri in range(r):
        out[ri] = f[indep[ri]]
    for c in range(G.shape[0]):
        s = -totals[c]
        for j in range(y.size):
            s += G[c, j] * y[j]
        out[r + c] = s
    return _norm(out)


@njit(**_JIT)
def newton(y, indep, G, atol, rtol, max_iter, net):
    """Newton's method for F(y) = 0 with the conserved totals ``G y`` of the start kept; y updated in place.

    ``indep`` are the rows of F at a maximal set of independent species and
    ``G`` (nc, ny) spans the left null space of the stoichiometric matrix; the
    square system ``R(y) = [F(y)[indep]; G y - T] = 0`` has the steady state
    with totals T as its root. The unknowns are ``ln x`` and p: amounts stay
    positive, and the boundary x = 0, where the flows vanish and an absolute
    residual test could pass short of the equilibrium, lies infinitely far
    away (a step changes no ``ln x`` by more than 5; every x must start > 0).
    Backtracking halves a step until the simplified Newton correction at the
    trial point is shorter than ``(1 - lam / 4)`` times the step (Deuflhard's
    affine-invariant test, which NLEQ uses). Converged when the residual test
    passes and the last step moved no ``ln x`` by more than 1e-6 and no p by
    more than ``1e-6 * max(1, norm(y))`` (so the error left is about its
    square), or the same holds of the simplified Newton correction after a
    full step (the next step, to first order, without another factorisation),
    or R is exactly 0. A converged answer's totals are then put back to
    rounding (:func:`_restore_totals`). Returns
    ``(converged, iterations, norm(F), norm(y))`` at the last iterate; on
    failure y holds the last iterate (the caller restores what it needs).
    """
    n, ny = net[0], y.size
    r, nc = indep.size, G.shape[0]
    jm = np.empty((ny, ny))
    a = np.empty((ny, ny))
    piv = np.empty(ny, np.int64)
    f = np.empty(ny)
    res = np.empty(ny)
    d = np.empty(ny)
    dbar = np.empty(ny)
    yt = np.empty(ny)
    totals = np.empty(nc)
    psi = np.empty(n)
    e = np.empty(n)
    for c in range(nc):
        s = 0.0
        for j in range(ny):
            s += G[c, j] * y[j]
        totals[c] = s
    for i in range(n):
        if not (y[i] > 0.0):
            return False, 0, np.inf, 0.0
    rhs(y, net, f, psi, e)
    rn = _newton_residual(y, f, indep, G, totals, res)
    if not math.isfinite(rn):
        return False, 0, np.inf, 0.0
    small = False
    for it in range(max_iter):
        if rn == 0.0 or (small and residual_ok(y, f, atol, rtol)):
            _restore_totals(y, G, totals, n)
            return True, it, _norm(f), _norm(y)
        jacobian(y, net, jm, psi, e)
        # Columns of x scaled by x: derivatives with respect to ln x.
        for ri in range(r):
            row = indep[ri]
            for j in range(ny):
                a[ri, j] = jm[row, j] * y[j] if j < n else jm[row, j]
        for c in range(nc):
            for j in range(ny):
                a[r + c, j] = G[c, j] * y[j] if j < n else G[c, j]
        for i in range(ny):
            d[i] = -res[i]
        if not _lu(a, piv):
            return False, it, np.inf, 0.0
        _lu_solve(a, piv, d)
        if not _finite(d):
            return False, it, np.inf, 0.0
        dn = _norm(d)
        lam = 1.0
        for i in range(n):
            lam = min(lam, 5.0 / max(abs(d[i]), 1e-300))
        while True:
            for i in range(n):
                yt[i] = y[i] * math.exp(lam * d[i])
            for i in range(n, ny):
                yt[i] = y[i] + lam * d[i]
            rhs(yt, net, f, psi, e)
            rtn = _newton_residual(yt, f, indep, G, totals, res)
            # Affine-invariant monotonicity test (Deuflhard's, as NLEQ uses): the simplified
            # Newton correction at the trial point, solved with the same factors, must shrink.
            for i in range(ny):
                dbar[i] = -res[i]
            _lu_solve(a, piv, dbar)
            if math.isfinite(rtn) and _finite(dbar) and _norm(dbar) <= (1.0 - 0.25 * lam) * dn:
                break
            lam *= 0.5
            if lam < 1e-10:
                return False, it + 1, np.inf, 0.0
        # Small in the unknowns themselves: every ln x moved by at most 1e-6 and every p by at most
        # 1e-6 of the state's size. (A march towards x = 0 takes steps of order 1 in ln x.)
        scale = max(1.0, _norm(yt))
        small = _small(lam, d, n, scale)
        for i in range(ny):
            y[i] = yt[i]
        rn = rtn
        # The simplified Newton correction at the new point (dbar, from the monotonicity test) is the
        # next step to first order: when it is small too, the answer is converged without another
        # Jacobian and factorisation.
        if lam == 1.0 and _small(1.0, dbar, n, scale) and residual_ok(y, f, atol, rtol):
            _restore_totals(y, G, totals, n)
            return True, it + 1, _norm(f), _norm(y)
    return small and residual_ok(y, f, atol, rtol), max_iter, _norm(f), _norm(y)


@njit(**_JIT)
def _restore_totals(y, G, totals, n):
    """y += G^T (T - G y): in ln x the conservation laws hold only to second order in the last step;
    this puts the totals back to rounding (G has orthonormal rows), unless it would make an amount <= 0."""
    nc, ny = G.shape
    gap = np.empty(nc)
    for c in range(nc):
        s = totals[c]
        for j in range(ny):
            s -= G[c, j] * y[j]
        gap[c] = s
    for j in range(n):
        s = y[j]
        for c in range(nc):
            s += G[c, j] * gap[c]
        if not (s > 0.0):
            return
    for j in range(ny):
        for c in range(nc):
            y[j] += G[c, j] * gap[c]


@njit(**_JIT)
def _small(lam, d, n, scale):
    """Every ln x (the first n unknowns) moves by at most 1e-6 and every p by at most 1e-6 * scale."""
    for i in range(d.size):
        if abs(lam * d[i]) > (1e-6 if i < n else 1e-6 * scale):
            return False
    return True
