"""Expression of a CPPN into an EPL reduced dynamical system (Algorithm 2; DESIGN.md section 2).

The CPPN takes ``(g_i, s_i, g_j, s_j)`` (gene and space coordinates of two
nodes; a zero says "not asked") and has three outputs, each read through a
clipped inverse tanh, ``y_k = atanh(clip(o_k, -1 + eps, 1 - eps))``:
``y0`` existence (genes, spaces, nodes, complexes, reactions, diffusion),
``y1`` external connection of a node, neighbourhood of spaces, Hamiltonian
edges, and ``y2`` charges, masses and rates. The paper's sign/abs ambiguity is
resolved as::

    exists(y) = y > existence_threshold
    rate(y)   = rate_scale * |y|

Coordinates: candidate elementary gene ``k`` sits at ``(k + 1) / n_genes``,
candidate space ``m`` at ``(m + 1) / n_spaces`` (never 0); the complex of the
``p``-th unordered pair of elementary genes (in order (0,0), (0,1), ...,
(1,1), ...) sits at ``-(p + 1) / n_pairs`` (negative, so distinct from both).

The rule, step by step (``0`` means "not asked")::

    1. elementary gene e exists        iff exists(y0(e, 0, 0, 0))
       it is one component with mass   m = mass_min + mass_scale * |y2(e, 0, 0, 0)|
                              charge   q = clip(round(y2(0, 0, e, 0)), -max_charge, max_charge)
    2. complex c of genes (i <= j)     iff both exist and exists(y0(e_i, 0, e_j, 0))
       (the reaction product function; composition = composition_i + composition_j,
       so the 2 -> 1 reaction i + j <-> c conserves composition by construction)
       every gene g gets a standard potential a_g = y1(g, 0, 0, 0)      (ours: DESIGN.md leaves a open)
    3. space s exists                  iff exists(y0(0, s, 0, 0))
       spaces a < b are neighbours     iff exists(y1(0, s_a, 0, s_b)), distance |s_a - s_b|
    4. node (g, s) exists              iff gene g and space s exist and exists(y0(g, s, 0, 0))
       reservoir rate h                = rate(y2(g, s, 0, 0)) if exists(y1(g, s, 0, 0)) else 0
                                         (0 for every node with ``reservoirs = false``)
       node mass and charge            = its gene's (sum over its composition)
    5. reaction i + j <-> c in space s iff nodes (i, s), (j, s), (c, s) exist and exists(y0(e_i, s, e_j, s));
       rate k = rate(y2(e_i, s, e_j, s))
    6. for neighbours a < b and nodes (g, a), (g, b):
       diffusion edge                  iff exists(y0(g, s_a, g, s_b)), k = rate(y2(g, s_a, g, s_b))
       Hamiltonian edge                iff exists(y1(g, s_a, g, s_b)), v = rate(y2(g, s_b, g, s_a))

All queries go to the CPPN in one vectorised call. The result is the
dynamics' validated :class:`~epl_sysbio.dynamics.RdsSpec`, which
:func:`~epl_sysbio.dynamics.spec_to_model` renders as SBML. Existing
components, genes and spaces are named by their index among those that
exist: ``c<i>``, ``g<i>`` (elementary genes first, so ``g<i>`` is made of
``c<i>``; then the complexes in pair order), ``s<i>``. Nodes come gene by
gene, space by space; reactions in the order of their products; transport
edges gene by gene, link by link. A CPPN that expresses no nodes has no
dynamics: :func:`express_substrate` returns ``None``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real

import numpy as np

from epl_sysbio import dynamics
from epl_sysbio.errors import InstanceOf, Interval, InvalidValueError, check_parameter, invalid_parameter_message, \
    validate_fields

__all__ = ["EplSubstrateConfig", "express_substrate"]


#: Most nodes (genes x spaces) a substrate may have: a million CPPN queries per genome.
MAX_SUBSTRATE_NODES = 1000

_POSITIVE = Interval(Real, 0, None, closed="neither")
_NONNEGATIVE = Interval(Real, 0, None, closed="left")
_SUBSTRATE_PARAMETERS = {
    "n_genes": Interval(int, 1, MAX_SUBSTRATE_NODES, closed="both"),
    "n_spaces": Interval(int, 1, MAX_SUBSTRATE_NODES, closed="both"),
    "existence_threshold": Interval(Real, None, None, closed="neither"),
    "rate_scale": _POSITIVE,
    "mass_min": _POSITIVE,
    "mass_scale": _NONNEGATIVE,
    "max_charge": Interval(int, 0, None, closed="left"),
    "clip_eps": Interval(Real, 0, 1, closed="neither"),
    "friction": _NONNEGATIVE,
    "reservoirs": InstanceOf(bool),
}


@dataclass(frozen=True, kw_only=True)
class EplSubstrateConfig:
    """Size of the candidate substrate and the reading of the CPPN outputs (see the module docstring)."""

    n_genes: int = 3
    n_spaces: int = 2
    existence_threshold: float = 0.0
    rate_scale: float = 1.0
    mass_min: float = 1.0
    mass_scale: float = 1.0
    max_charge: int = 2
    clip_eps: float = 1e-6
    friction: float = 0.1
    reservoirs: bool = True

    def __post_init__(self) -> None:
        validate_fields(self, _SUBSTRATE_PARAMETERS)
        # The CPPN is queried for every pair of nodes: beyond this no machine finishes expressing one genome.
        check_parameter(type(self).__name__, "n_genes * n_spaces", self.n_genes * self.n_spaces <= MAX_SUBSTRATE_NODES,
                        f"at most {MAX_SUBSTRATE_NODES} nodes (the CPPN is queried for every pair of nodes)",
                        self.n_genes * self.n_spaces)


class _Queries:
    """Collects query points, evaluates them in one CPPN call, then answers by key."""

    def __init__(self) -> None:
        self.rows: dict[tuple[float, float, float, float], int] = {}

    def add(self, *key: float) -> None:
        self.rows.setdefault(key, len(self.rows))

    def run(self, cppn: Callable[[np.ndarray], np.ndarray], eps: float) -> None:
        x = np.asarray(list(self.rows), dtype=np.float64).reshape(-1, 4)
        out = np.asarray(cppn(x), dtype=np.float64)
        if out.shape != (len(x), 3):
            raise InvalidValueError(invalid_parameter_message(
                "express_substrate", "cppn", "a function mapping (n, 4) inputs to (n, 3) outputs",
                f"output of shape {out.shape} for {len(x)} queries"))
        if not np.all(np.isfinite(out)):
            raise InvalidValueError("express_substrate: the CPPN returned non-finite outputs; "
                                    "check its activations.")
        self.y = np.arctanh(np.clip(out, -1.0 + eps, 1.0 - eps))

    def __call__(self, k: int, *key: float) -> float:
        return float(self.y[self.rows[key], k])


def express_substrate(cppn: Callable[[np.ndarray], np.ndarray], config: EplSubstrateConfig | None = None, *,
                      name: str = "expressed_rds", initial_amount: float = 1.0) -> dynamics.RdsSpec | None:
    """Express a CPPN into an EPL reduced dynamical system (rule and names in the module docstring).

    Parameters
    ----------
    cppn : callable
        Maps an (n, 4) array of ``(g_i, s_i, g_j, s_j)`` to (n, 3) outputs in
        [-1, 1] (e.g. a compiled NEAT genome with tanh outputs).
    config : EplSubstrateConfig
    name : str
        The spec's name (an SBML id).
    initial_amount : float
        x at time 0 of every node (> 0).

    Returns
    -------
    RdsSpec or None
        Every node with the config's friction and no roles; ``None`` if the
        CPPN expressed no nodes.
    """
    cfg = config or EplSubstrateConfig()
    t = cfg.existence_threshold
    elem = [(k + 1) / cfg.n_genes for k in range(cfg.n_genes)]
    pairs = [(i, j) for i in range(cfg.n_genes) for j in range(i, cfg.n_genes)]
    cplx = [-(p + 1) / len(pairs) for p in range(len(pairs))]
    spaces = [(m + 1) / cfg.n_spaces for m in range(cfg.n_spaces)]
    all_genes = elem + cplx

    q = _Queries()
    for e in elem:
        q.add(e, 0, 0, 0)
        q.add(0, 0, e, 0)
    for i, j in pairs:
        q.add(elem[i], 0, elem[j], 0)
        for s in spaces:
            q.add(elem[i], s, elem[j], s)
    for s in spaces:
        q.add(0, s, 0, 0)
    for a in range(len(spaces)):
        for b in range(a + 1, len(spaces)):
            q.add(0, spaces[a], 0, spaces[b])
    for g in all_genes:
        q.add(g, 0, 0, 0)
        for s in spaces:
            q.add(g, s, 0, 0)
        for a in range(len(spaces)):
            for b in range(a + 1, len(spaces)):
                q.add(g, spaces[a], g, spaces[b])
                q.add(g, spaces[b], g, spaces[a])
    q.run(cppn, cfg.clip_eps)

    def rate(y: float) -> float:
        return cfg.rate_scale * abs(y)

    # 1. elementary genes = components; elementary gene g<c> is made of component c<c>
    elem_ids = [k for k, e in enumerate(elem) if q(0, e, 0, 0, 0) > t]
    components = tuple(dynamics.Component(
        name=f"c{c}", mass=cfg.mass_min + cfg.mass_scale * abs(q(2, elem[k], 0, 0, 0)),
        charge=float(np.clip(round(q(2, 0, 0, elem[k], 0)), -cfg.max_charge, cfg.max_charge)))
        for c, k in enumerate(elem_ids))
    comp_of = {k: c for c, k in enumerate(elem_ids)}
    coordinate = {f"g{c}": elem[k] for c, k in enumerate(elem_ids)}
    composition: dict[str, Counter] = {f"g{c}": Counter({f"c{c}": 1}) for c in comp_of.values()}
    # 2. complexes (reaction products), with the elementary genes they are made of
    parents: dict[str, tuple[str, str]] = {}
    for p, (i, j) in enumerate(pairs):
        if i in comp_of and j in comp_of and q(0, elem[i], 0, elem[j], 0) > t:
            gene, gi, gj = f"g{len(coordinate)}", f"g{comp_of[i]}", f"g{comp_of[j]}"
            coordinate[gene], parents[gene] = cplx[p], (gi, gj)
            composition[gene] = composition[gi] + composition[gj]
    genes = tuple(dynamics.Gene(name=g, composition=composition[g], potential=q(1, x, 0, 0, 0))
                  for g, x in coordinate.items())
    # 3. spaces and neighbourhood
    place = {f"s{n}": s for n, s in enumerate(s for s in spaces if q(0, 0, s, 0, 0) > t)}  # name -> coordinate
    names = list(place)
    links = tuple(dynamics.SpaceLink(a=a, b=b, distance=abs(place[a] - place[b]))
                  for n, a in enumerate(names) for b in names[n + 1:] if q(1, 0, place[a], 0, place[b]) > t)
    # 4. nodes
    nodes = []
    for gene, g in coordinate.items():
        for space, s in place.items():
            if q(0, g, s, 0, 0) > t:
                h = rate(q(2, g, s, 0, 0)) if cfg.reservoirs and q(1, g, s, 0, 0) > t else 0.0
                nodes.append(dynamics.Node(gene=gene, space=space, initial_amount=initial_amount, reservoir=h,
                                           friction=cfg.friction))
    if not nodes:
        return None
    exists = {n.key for n in nodes}
    # 5. reactions i + j <-> c within a space
    reactions = []
    for product, (gi, gj) in parents.items():
        for space, s in place.items():
            key = (coordinate[gi], s, coordinate[gj], s)
            if {(gi, space), (gj, space), (product, space)} <= exists and q(0, *key) > t:
                reactions.append(dynamics.Reaction(reactants=(gi, gj), product=product, space=space,
                                                   rate=rate(q(2, *key))))
    # 6. diffusion and Hamiltonian edges between neighbouring spaces, same gene
    diffusion, hamiltonian = [], []
    for gene, g in coordinate.items():
        for link in links:
            if (gene, link.a) not in exists or (gene, link.b) not in exists:
                continue
            sa, sb = place[link.a], place[link.b]
            if q(0, g, sa, g, sb) > t:
                diffusion.append(dynamics.Diffusion(gene=gene, a=link.a, b=link.b, rate=rate(q(2, g, sa, g, sb))))
            if q(1, g, sa, g, sb) > t:
                hamiltonian.append(dynamics.HamiltonianEdge(gene=gene, a=link.a, b=link.b,
                                                            rate=rate(q(2, g, sb, g, sa))))
    return dynamics.RdsSpec(name=name, components=components, genes=genes,
                            spaces=tuple(dynamics.Space(name=s) for s in place), links=links, nodes=tuple(nodes),
                            reactions=tuple(reactions), diffusion=tuple(diffusion), hamiltonian=tuple(hamiltonian))
