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

All queries go to the CPPN in one vectorised call. The result is a plain,
frozen data structure (:class:`ExpressedRds`); :meth:`ExpressedRds.to_spec`
turns it into the dynamics' validated :class:`~epl_sysbio.dynamics.RdsSpec`
(names ``c<i>`` components, ``g<i>`` genes, ``s<i>`` spaces, by index), which
:func:`~epl_sysbio.dynamics.spec_to_model` renders as SBML.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real

import numpy as np

from epl_sysbio import dynamics
from epl_sysbio.errors import InstanceOf, Interval, InvalidValueError, check_parameter, invalid_parameter_message, \
    validate_fields

__all__ = [
    "EplSubstrateConfig",
    "Component",
    "Gene",
    "Space",
    "SpaceLink",
    "Node",
    "Reaction",
    "TransportEdge",
    "ExpressedRds",
    "express_substrate",
]


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


@dataclass(frozen=True)
class Component:
    """An elementary building block (one per elementary gene)."""

    index: int
    mass: float
    charge: int


@dataclass(frozen=True)
class Gene:
    """A molecular species type: its coordinate, composition (count per component) and standard potential ``a``."""

    index: int
    coordinate: float
    composition: tuple[int, ...]
    potential: float
    mass: float
    charge: int


@dataclass(frozen=True)
class Space:
    """A compartment."""

    index: int
    coordinate: float


@dataclass(frozen=True)
class SpaceLink:
    """Neighbouring spaces ``a < b`` and their distance."""

    a: int
    b: int
    distance: float


@dataclass(frozen=True)
class Node:
    """One gene in one space (a species); ``reservoir_rate`` h > 0 if connected to the external reservoir."""

    index: int
    gene: int
    space: int
    reservoir_rate: float
    mass: float
    charge: int


@dataclass(frozen=True)
class Reaction:
    """``reactants[0] + reactants[1] <-> product`` (node indices, same space) with rate constant ``rate``."""

    reactants: tuple[int, int]
    product: int
    rate: float


@dataclass(frozen=True)
class TransportEdge:
    """A diffusion (rate k) or Hamiltonian (rate v) edge between the nodes of one gene in neighbouring spaces."""

    kind: str
    a: int
    b: int
    rate: float


@dataclass(frozen=True)
class ExpressedRds:
    """The reduced dynamical system a CPPN expressed, as plain typed data."""

    components: tuple[Component, ...]
    genes: tuple[Gene, ...]
    spaces: tuple[Space, ...]
    space_links: tuple[SpaceLink, ...]
    nodes: tuple[Node, ...]
    reactions: tuple[Reaction, ...]
    diffusion: tuple[TransportEdge, ...]
    hamiltonian: tuple[TransportEdge, ...]
    friction: float

    def node_composition(self) -> np.ndarray:
        """M, shape (n_nodes, n_components): component counts of each node."""
        m = np.zeros((len(self.nodes), len(self.components)))
        for n in self.nodes:
            m[n.index] = self.genes[n.gene].composition
        return m

    def stoichiometry(self) -> tuple[np.ndarray, np.ndarray]:
        """Reactant and product multiplicities (alpha, beta), each (n_nodes, n_edges).

        Edges in order: reactions, diffusion, Hamiltonian; ``nu = beta - alpha``
        and mass conservation reads ``M.T @ nu == 0``.
        """
        edges = len(self.reactions) + len(self.diffusion) + len(self.hamiltonian)
        alpha = np.zeros((len(self.nodes), edges))
        beta = np.zeros_like(alpha)
        for r, reaction in enumerate(self.reactions):
            for i in reaction.reactants:
                alpha[i, r] += 1
            beta[reaction.product, r] += 1
        for r, edge in enumerate(self.diffusion + self.hamiltonian, start=len(self.reactions)):
            alpha[edge.a, r] = beta[edge.b, r] = 1
        return alpha, beta

    def inverse_distance(self) -> np.ndarray:
        """(n_spaces, n_spaces): ``1 / distance`` between neighbouring spaces, 0 elsewhere (diagonal included)."""
        d = np.zeros((len(self.spaces), len(self.spaces)))
        for link in self.space_links:
            d[link.a, link.b] = d[link.b, link.a] = 1.0 / link.distance
        return d

    def to_spec(self, *, name: str = "expressed_rds", initial_amount: float = 1.0,
                roles: Mapping[int, Sequence[str]] | None = None) -> dynamics.RdsSpec:
        """The validated dynamics spec of this RDS, same node and edge order.

        Component ``i`` becomes ``c<i>``, gene ``i`` ``g<i>``, space ``i``
        ``s<i>``; every node starts at ``initial_amount`` and gets the
        expression's friction; ``roles`` maps node indices to roles
        (``"input"``, ``"output"``, ``"feedback"``). An RDS without nodes has
        no dynamics: :class:`~epl_sysbio.errors.InvalidValueError`.
        """
        roles = dict(roles or {})
        genes = [f"g{g.index}" for g in self.genes]
        spaces = [f"s{s.index}" for s in self.spaces]
        node_key = [(genes[n.gene], spaces[n.space]) for n in self.nodes]
        return dynamics.RdsSpec(
            name=name,
            components=tuple(dynamics.Component(name=f"c{c.index}", mass=c.mass, charge=float(c.charge))
                             for c in self.components),
            genes=tuple(dynamics.Gene(name=genes[g.index], potential=g.potential,
                                      composition={f"c{i}": n for i, n in enumerate(g.composition) if n})
                        for g in self.genes),
            spaces=tuple(dynamics.Space(name=s) for s in spaces),
            links=tuple(dynamics.SpaceLink(a=spaces[k.a], b=spaces[k.b], distance=k.distance)
                        for k in self.space_links),
            nodes=tuple(dynamics.Node(gene=g, space=s, initial_amount=initial_amount, reservoir=n.reservoir_rate,
                                      friction=self.friction, roles=tuple(roles.get(n.index, ())))
                        for (g, s), n in zip(node_key, self.nodes)),
            reactions=tuple(dynamics.Reaction(reactants=(node_key[r.reactants[0]][0], node_key[r.reactants[1]][0]),
                                              product=node_key[r.product][0], space=node_key[r.product][1],
                                              rate=r.rate) for r in self.reactions),
            diffusion=tuple(dynamics.Diffusion(gene=node_key[e.a][0], a=node_key[e.a][1], b=node_key[e.b][1],
                                               rate=e.rate) for e in self.diffusion),
            hamiltonian=tuple(dynamics.HamiltonianEdge(gene=node_key[e.a][0], a=node_key[e.a][1],
                                                       b=node_key[e.b][1], rate=e.rate) for e in self.hamiltonian),
        )


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


def express_substrate(cppn: Callable[[np.ndarray], np.ndarray],
                      config: EplSubstrateConfig | None = None) -> ExpressedRds:
    """Express a CPPN into an EPL reduced dynamical system (rule in the module docstring).

    Parameters
    ----------
    cppn : callable
        Maps an (n, 4) array of ``(g_i, s_i, g_j, s_j)`` to (n, 3) outputs in
        [-1, 1] (e.g. a compiled NEAT genome with tanh outputs).
    config : EplSubstrateConfig
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

    # 1. elementary genes = components
    elem_ids = [k for k, e in enumerate(elem) if q(0, e, 0, 0, 0) > t]
    components = tuple(
        Component(c, cfg.mass_min + cfg.mass_scale * abs(q(2, elem[k], 0, 0, 0)),
                  int(np.clip(round(q(2, 0, 0, elem[k], 0)), -cfg.max_charge, cfg.max_charge)))
        for c, k in enumerate(elem_ids))
    comp_of = {k: c for c, k in enumerate(elem_ids)}
    # 2. complexes (reaction products)
    gene_specs: list[tuple[float, tuple[int, ...], tuple[int, int] | None]] = []
    for k in elem_ids:
        counts = [0] * len(components)
        counts[comp_of[k]] = 1
        gene_specs.append((elem[k], tuple(counts), None))
    for p, (i, j) in enumerate(pairs):
        if i in comp_of and j in comp_of and q(0, elem[i], 0, elem[j], 0) > t:
            counts = [0] * len(components)
            counts[comp_of[i]] += 1
            counts[comp_of[j]] += 1
            gene_specs.append((cplx[p], tuple(counts), (i, j)))
    genes = tuple(
        Gene(g, coord, comp, q(1, coord, 0, 0, 0),
             float(sum(n * c.mass for n, c in zip(comp, components))),
             int(sum(n * c.charge for n, c in zip(comp, components))))
        for g, (coord, comp, _) in enumerate(gene_specs))
    gene_index = {coord: g for g, (coord, _, _) in enumerate(gene_specs)}
    # 3. spaces and neighbourhood
    space_ids = [m for m, s in enumerate(spaces) if q(0, 0, s, 0, 0) > t]
    space_objs = tuple(Space(n, spaces[m]) for n, m in enumerate(space_ids))
    links = tuple(
        SpaceLink(a, b, abs(spaces[space_ids[a]] - spaces[space_ids[b]]))
        for a in range(len(space_ids)) for b in range(a + 1, len(space_ids))
        if q(1, 0, spaces[space_ids[a]], 0, spaces[space_ids[b]]) > t)
    # 4. nodes
    nodes: list[Node] = []
    node_at: dict[tuple[int, int], int] = {}
    for gene in genes:
        for sp in space_objs:
            if q(0, gene.coordinate, sp.coordinate, 0, 0) > t:
                h = rate(q(2, gene.coordinate, sp.coordinate, 0, 0)) \
                    if cfg.reservoirs and q(1, gene.coordinate, sp.coordinate, 0, 0) > t else 0.0
                node_at[gene.index, sp.index] = len(nodes)
                nodes.append(Node(len(nodes), gene.index, sp.index, h, gene.mass, gene.charge))
    # 5. reactions i + j <-> c within a space
    reactions = []
    for coord, _, parents in gene_specs:
        if parents is None:
            continue
        i, j = parents
        gi, gj, gc = gene_index[elem[i]], gene_index[elem[j]], gene_index[coord]
        for sp in space_objs:
            key = (elem[i], sp.coordinate, elem[j], sp.coordinate)
            ids = [node_at.get((g, sp.index)) for g in (gi, gj, gc)]
            if None not in ids and q(0, *key) > t:
                reactions.append(Reaction((ids[0], ids[1]), ids[2], rate(q(2, *key))))
    # 6. diffusion and Hamiltonian edges between neighbouring spaces, same gene
    diffusion, hamiltonian = [], []
    for gene in genes:
        g = gene.coordinate
        for link in links:
            na, nb = node_at.get((gene.index, link.a)), node_at.get((gene.index, link.b))
            if na is None or nb is None:
                continue
            sa, sb = space_objs[link.a].coordinate, space_objs[link.b].coordinate
            if q(0, g, sa, g, sb) > t:
                diffusion.append(TransportEdge("diffusion", na, nb, rate(q(2, g, sa, g, sb))))
            if q(1, g, sa, g, sb) > t:
                hamiltonian.append(TransportEdge("hamiltonian", na, nb, rate(q(2, g, sb, g, sa))))
    return ExpressedRds(components, genes, space_objs, links, tuple(nodes), tuple(reactions), tuple(diffusion),
                        tuple(hamiltonian), cfg.friction)
