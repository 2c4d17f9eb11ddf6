"""The reduced dynamical system (RDS) of EPL as a typed, validated spec (DESIGN.md section 2).

An :class:`RdsSpec` is plain frozen data: components (mass, charge), genes
(composition, standard potential ``a``), spaces and their neighbourhood
(:class:`SpaceLink` with a distance), nodes (one gene in one space, with
initial amount, reservoir rate ``h``, friction ``c`` and optional roles),
2 -> 1 chemical reactions within a space, and diffusion and Hamiltonian edges
between the nodes of one gene in neighbouring spaces. Everything is checked
when the spec is built; a bad element raises an :class:`~epl_sysbio.errors.EplSysbioError`
naming it.

Elements refer to each other by name (letters and digits only, starting with
a letter), so that the SBML ids built from them are readable and unique:
node ``(g, s)`` is the species ``x_g_s`` (:attr:`Node.species_id`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from numbers import Real

import numpy as np

from epl_sysbio.errors import Interval, InvalidValueError, UnknownIdError, check_parameter, format_ids, \
    invalid_parameter_message, validate

__all__ = [
    "ROLES",
    "Component",
    "Gene",
    "Space",
    "SpaceLink",
    "Node",
    "Reaction",
    "Diffusion",
    "HamiltonianEdge",
    "RdsSpec",
    "spec_to_dict",
    "spec_from_dict",
]

#: Roles a node may carry for the EPL learner (inject inputs, read outputs, inject feedback).
ROLES = ("feedback", "input", "output")

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")


def _name(owner: str, value: object) -> str:
    if not (isinstance(value, str) and _NAME.match(value)):
        raise InvalidValueError(invalid_parameter_message(
            owner, "name", "letters and digits starting with a letter (it becomes part of SBML ids)", value))
    return value


_TINY = 1e-300
_POSITIVE = Interval(Real, 0, None, closed="neither")
_NONNEGATIVE = Interval(Real, 0, None, closed="left")
_FINITE = Interval(Real, None, None, closed="neither")


def _numbers(obj: object, owner: str, table: dict[str, Interval]) -> None:
    """Validate ``table``'s fields of ``obj`` and store them as floats.

    Numbers below 1e-300 become 0 (and must still fit): written to SBML with 15 digits, the smallest
    normal doubles round into the subnormal range, which libRoadRunner reads as a missing value.
    """
    values = {name: getattr(obj, name) for name in table}
    validate(owner, table, values)
    for name, value in values.items():
        v = float(value) if abs(value) >= _TINY else 0.0
        check_parameter(owner, name, v in table[name], f"{table[name]} once values below {_TINY:g} become 0", value)
        object.__setattr__(obj, name, v)


@dataclass(frozen=True, kw_only=True)
class Component:
    """An elementary building block with a mass (> 0) and a charge."""

    name: str
    mass: float = 1.0
    charge: float = 0.0

    def __post_init__(self) -> None:
        _name("Component", self.name)
        _numbers(self, f"Component {self.name!r}", {"mass": _POSITIVE, "charge": _FINITE})


@dataclass(frozen=True, kw_only=True)
class Gene:
    """A molecular species type: its composition (component name -> count) and standard potential ``a``."""

    name: str
    composition: Mapping[str, int]
    potential: float = 0.0

    def __post_init__(self) -> None:
        _name("Gene", self.name)
        own = f"Gene {self.name!r}"
        comp = dict(self.composition) if isinstance(self.composition, Mapping) else None
        if not comp or any(not isinstance(n, int) or isinstance(n, bool) or n < 0 for n in comp.values()) \
                or sum(comp.values()) == 0:
            raise InvalidValueError(invalid_parameter_message(
                own, "composition", "a mapping of component names to counts (ints >= 0, not all 0)",
                self.composition))
        # Sorted and without zeros: equal compositions compare equal.
        object.__setattr__(self, "composition", dict(sorted((c, n) for c, n in comp.items() if n)))
        _numbers(self, own, {"potential": _FINITE})


@dataclass(frozen=True, kw_only=True)
class Space:
    """A compartment."""

    name: str

    def __post_init__(self) -> None:
        _name("Space", self.name)


@dataclass(frozen=True, kw_only=True)
class SpaceLink:
    """Neighbouring spaces ``a`` and ``b`` at ``distance`` (> 0)."""

    a: str
    b: str
    distance: float = 1.0

    def __post_init__(self) -> None:
        own = f"SpaceLink {self.a!r}-{self.b!r}"
        if self.a == self.b:
            raise InvalidValueError(f"{own}: a space is not its own neighbour. Link two different spaces.")
        _numbers(self, own, {"distance": _POSITIVE})


@dataclass(frozen=True, kw_only=True)
class Node:
    """One gene in one space: a species of the SBML model.

    Parameters
    ----------
    gene, space : str
        Names of a gene and a space of the spec.
    initial_amount : float
        x at time 0 (> 0).
    reservoir : float
        External homeostasis rate h (>= 0); 0 means not connected to the reservoir.
    friction : float
        Collision rate c (>= 0) acting on the node's momentum.
    roles : tuple of str
        Any of :data:`ROLES` ("input", "output", "feedback") for the EPL learner.
    """

    gene: str
    space: str
    initial_amount: float = 1.0
    reservoir: float = 0.0
    friction: float = 0.0
    roles: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        own = f"Node {self.gene}@{self.space}"
        _numbers(self, own, {"initial_amount": _POSITIVE, "reservoir": _NONNEGATIVE, "friction": _NONNEGATIVE})
        roles = (self.roles,) if isinstance(self.roles, str) else tuple(self.roles)
        bad = [r for r in roles if r not in ROLES]
        if bad:
            raise InvalidValueError(f"{own}: unknown roles {format_ids(bad)}. Use any of {format_ids(ROLES)}.")
        object.__setattr__(self, "roles", tuple(sorted(set(roles))))

    @property
    def key(self) -> tuple[str, str]:
        return (self.gene, self.space)

    @property
    def species_id(self) -> str:
        """SBML id of the node's amount x."""
        return f"x_{self.gene}_{self.space}"

    @property
    def momentum_id(self) -> str:
        """SBML id of the node's momentum p (present only on nodes with a Hamiltonian edge)."""
        return f"p_{self.gene}_{self.space}"


@dataclass(frozen=True, kw_only=True)
class Reaction:
    """``reactants[0] + reactants[1] <-> product`` within ``space`` with rate constant ``rate`` (k >= 0)."""

    reactants: tuple[str, str]
    product: str
    space: str
    rate: float = 1.0

    def __post_init__(self) -> None:
        r = tuple(self.reactants)
        if len(r) != 2:
            raise InvalidValueError(invalid_parameter_message(
                f"Reaction -> {self.product} in {self.space}", "reactants", "two gene names (2 -> 1 reactions)",
                self.reactants))
        object.__setattr__(self, "reactants", tuple(sorted(r)))
        _numbers(self, f"Reaction {self.id}", {"rate": _NONNEGATIVE})

    @property
    def id(self) -> str:
        return f"R_{self.reactants[0]}_{self.reactants[1]}_{self.product}_{self.space}"


@dataclass(frozen=True, kw_only=True)
class _Transport:
    gene: str
    a: str
    b: str
    rate: float = 1.0
    _prefix = ""

    def __post_init__(self) -> None:
        _numbers(self, f"{type(self).__name__} {self.id}", {"rate": _NONNEGATIVE})

    @property
    def id(self) -> str:
        return f"{self._prefix}_{self.gene}_{self.a}_{self.b}"


@dataclass(frozen=True, kw_only=True)
class Diffusion(_Transport):
    """Chemical exchange of ``gene`` between neighbouring spaces ``a`` and ``b`` with rate constant k >= 0."""

    _prefix = "D"


@dataclass(frozen=True, kw_only=True)
class HamiltonianEdge(_Transport):
    """Hamiltonian exchange of ``gene`` between neighbouring spaces ``a`` and ``b`` with rate v >= 0."""

    _prefix = "H"


def _unique(kind: str, keys: list) -> None:
    seen, dup = set(), []
    for k in keys:
        if k in seen:
            dup.append(k)
        seen.add(k)
    if dup:
        raise InvalidValueError(f"RdsSpec: duplicate {kind} {format_ids(map(str, dup))}. Give each one once.")


@dataclass(frozen=True, kw_only=True)
class RdsSpec:
    """A reduced dynamical system: the structure and every constant of an EPL network.

    Node order (:attr:`nodes`) is the order of x and p everywhere (NumPy
    reference, matrices). Edges are ordered reactions, diffusion, Hamiltonian.

    Raises
    ------
    UnknownIdError
        An element names a gene, space or component the spec does not have.
    InvalidValueError
        Duplicates, negative rates, a reaction that does not conserve
        composition, a transport edge between spaces that are not neighbours
        or whose nodes do not exist.
    """

    name: str = "rds"
    components: tuple[Component, ...]
    genes: tuple[Gene, ...]
    spaces: tuple[Space, ...]
    links: tuple[SpaceLink, ...] = ()
    nodes: tuple[Node, ...]
    reactions: tuple[Reaction, ...] = ()
    diffusion: tuple[Diffusion, ...] = ()
    hamiltonian: tuple[HamiltonianEdge, ...] = ()
    notes: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not (isinstance(self.name, str) and re.match(r"[A-Za-z_][A-Za-z0-9_]*\Z", self.name)):
            raise InvalidValueError(invalid_parameter_message("RdsSpec", "name", "a valid SBML id", self.name))
        for fld in ("components", "genes", "spaces", "links", "nodes", "reactions", "diffusion", "hamiltonian"):
            object.__setattr__(self, fld, tuple(getattr(self, fld)))
        _unique("components", [c.name for c in self.components])
        _unique("genes", [g.name for g in self.genes])
        _unique("spaces", [s.name for s in self.spaces])
        _unique("space links", [tuple(sorted((k.a, k.b))) for k in self.links])
        _unique("nodes", [n.key for n in self.nodes])
        _unique("reactions", [r.id for r in self.reactions])
        _unique("diffusion edges", [tuple(sorted((e.a, e.b))) + (e.gene,) for e in self.diffusion])
        _unique("Hamiltonian edges", [tuple(sorted((e.a, e.b))) + (e.gene,) for e in self.hamiltonian])
        if not self.nodes:
            raise InvalidValueError("RdsSpec: no nodes. Add at least one Node(gene=..., space=...).")
        components = {c.name for c in self.components}
        genes = {g.name for g in self.genes}
        spaces = {s.name for s in self.spaces}
        for g in self.genes:
            _known(f"gene {g.name!r}", "components", g.composition, components)
        for k in self.links:
            _known(f"space link {k.a}-{k.b}", "spaces", (k.a, k.b), spaces)
        for n in self.nodes:
            _known(f"node {n.gene}@{n.space}", "genes", [n.gene], genes)
            _known(f"node {n.gene}@{n.space}", "spaces", [n.space], spaces)
        nodes = {n.key for n in self.nodes}
        for r in self.reactions:
            _known(f"reaction {r.id}", "genes", r.reactants + (r.product,), genes)
            _known(f"reaction {r.id}", "spaces", [r.space], spaces)
            _known(f"reaction {r.id}", "nodes (gene@space)",
                   [f"{g}@{r.space}" for g in r.reactants + (r.product,) if (g, r.space) not in nodes], set())
            left = _add(self.gene(r.reactants[0]).composition, self.gene(r.reactants[1]).composition)
            right = self.gene(r.product).composition
            if left != right:
                raise InvalidValueError(
                    f"RdsSpec: reaction {r.id} does not conserve composition: {' + '.join(r.reactants)} "
                    f"has {left}, {r.product} has {right}. Use a product whose composition is the sum "
                    "of the reactants' or remove the reaction.")
        neighbours = {frozenset((k.a, k.b)) for k in self.links}
        for e in self.diffusion + self.hamiltonian:
            what = f"{type(e).__name__} edge {e.id}"
            _known(what, "genes", [e.gene], genes)
            _known(what, "spaces", (e.a, e.b), spaces)
            if frozenset((e.a, e.b)) not in neighbours:
                raise InvalidValueError(f"RdsSpec: {what} joins spaces {e.a!r} and {e.b!r}, which are not "
                                        "neighbours. Add a SpaceLink between them or remove the edge.")
            _known(what, "nodes (gene@space)", [f"{e.gene}@{s}" for s in (e.a, e.b) if (e.gene, s) not in nodes],
                   set())

    # ---------------------------------------------------------------- lookups
    def gene(self, name: str) -> Gene:
        return self._genes[name]

    def node(self, gene: str, space: str) -> Node:
        """The node of ``gene`` in ``space``."""
        try:
            return self.nodes[self.node_index[(gene, space)]]
        except KeyError:
            raise UnknownIdError(f"RdsSpec {self.name!r}: no node {gene}@{space}. Known nodes: "
                                 f"{format_ids(f'{n.gene}@{n.space}' for n in self.nodes)}.") from None

    def species_id(self, node: Node | tuple[str, str]) -> str:
        """SBML species id of a node (given as a :class:`Node` or ``(gene, space)``)."""
        return (node if isinstance(node, Node) else self.node(*node)).species_id

    def nodes_with_role(self, role: str) -> tuple[Node, ...]:
        """Nodes carrying ``role`` (one of :data:`ROLES`), in node order."""
        if role not in ROLES:
            raise InvalidValueError(f"RdsSpec: unknown role {role!r}. Use one of {format_ids(ROLES)}.")
        return tuple(n for n in self.nodes if role in n.roles)

    @cached_property
    def _genes(self) -> dict[str, Gene]:
        return {g.name: g for g in self.genes}

    @cached_property
    def _components(self) -> dict[str, Component]:
        return {c.name: c for c in self.components}

    @cached_property
    def node_index(self) -> dict[tuple[str, str], int]:
        """Position of each node ``(gene, space)`` in :attr:`nodes`."""
        return {n.key: i for i, n in enumerate(self.nodes)}

    @cached_property
    def momentum_nodes(self) -> tuple[int, ...]:
        """Indices of nodes on a Hamiltonian edge: the only ones whose momentum can leave 0."""
        on = {(e.gene, s) for e in self.hamiltonian for s in (e.a, e.b)}
        return tuple(i for i, n in enumerate(self.nodes) if n.key in on)

    # ---------------------------------------------------------------- matrices
    def composition_matrix(self) -> np.ndarray:
        """M, shape (n_nodes, n_components): component counts of each node (components in spec order)."""
        cols = {c.name: j for j, c in enumerate(self.components)}
        m = np.zeros((len(self.nodes), len(self.components)))
        for i, n in enumerate(self.nodes):
            for c, count in self.gene(n.gene).composition.items():
                m[i, cols[c]] = count
        return m

    def gene_mass(self, gene: str) -> float:
        """Mass of a gene: sum over its composition of count * component mass."""
        return float(sum(n * self._components[c].mass for c, n in self.gene(gene).composition.items()))

    def gene_charge(self, gene: str) -> float:
        """Charge of a gene: sum over its composition of count * component charge."""
        return float(sum(n * self._components[c].charge for c, n in self.gene(gene).composition.items()))

    def masses(self) -> np.ndarray:
        """m, shape (n_nodes,): node mass = sum over its gene's composition of count * component mass."""
        return self.composition_matrix() @ np.array([c.mass for c in self.components])

    def charges(self) -> np.ndarray:
        """q, shape (n_nodes,): node charge = sum over its gene's composition of count * component charge."""
        return self.composition_matrix() @ np.array([c.charge for c in self.components])

    def potentials(self) -> np.ndarray:
        """a, shape (n_nodes,): the standard potential of each node's gene."""
        return np.array([self.gene(n.gene).potential for n in self.nodes])

    def inverse_distance(self) -> np.ndarray:
        """D^-1, shape (n_spaces, n_spaces): 1/distance between neighbours, 0 elsewhere (diagonal included)."""
        idx = {s.name: i for i, s in enumerate(self.spaces)}
        d = np.zeros((len(self.spaces), len(self.spaces)))
        for k in self.links:
            d[idx[k.a], idx[k.b]] = d[idx[k.b], idx[k.a]] = 1.0 / k.distance
        return d

    def electric_matrix(self) -> np.ndarray:
        """V = diag(q) S D^-1 S^T diag(q), shape (n_nodes, n_nodes); S is the node -> space one-hot matrix."""
        idx = {s.name: i for i, s in enumerate(self.spaces)}
        s = np.zeros((len(self.nodes), len(self.spaces)))
        s[np.arange(len(self.nodes)), [idx[n.space] for n in self.nodes]] = 1.0
        q = self.charges()
        return q[:, None] * (s @ self.inverse_distance() @ s.T) * q[None, :]

    def chemical_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The chemical flow's edges as node indices: reactions, then diffusion edges.

        Returns ``(first, second, product, k)``, each of length n_edges: a
        reaction ``first + second <-> product``, a diffusion edge
        ``first <-> product`` with ``second = -1``; ``k`` the rate constants.
        """
        ix = self.node_index
        rows = [(ix[r.reactants[0], r.space], ix[r.reactants[1], r.space], ix[r.product, r.space], r.rate)
                for r in self.reactions]
        rows += [(ix[e.gene, e.a], -1, ix[e.gene, e.b], e.rate) for e in self.diffusion]
        first, second, product, k = (list(col) for col in zip(*rows)) if rows else ([], [], [], [])
        as_int = lambda v: np.asarray(v, dtype=np.int64)  # noqa: E731
        return as_int(first), as_int(second), as_int(product), np.asarray(k, dtype=float)

    def stoichiometry(self) -> tuple[np.ndarray, np.ndarray]:
        """Reactant and product multiplicities (alpha, beta), each (n_nodes, n_edges).

        Edges in order: reactions, diffusion, Hamiltonian; ``nu = beta - alpha``
        and mass conservation reads ``M.T @ nu == 0``.
        """
        edges = self.reactions + self.diffusion + self.hamiltonian
        alpha = np.zeros((len(self.nodes), len(edges)))
        beta = np.zeros_like(alpha)
        ix = self.node_index
        for r, e in enumerate(edges):
            if isinstance(e, Reaction):
                for g in e.reactants:
                    alpha[ix[g, e.space], r] += 1
                beta[ix[e.product, e.space], r] += 1
            else:
                alpha[ix[e.gene, e.a], r] = 1
                beta[ix[e.gene, e.b], r] = 1
        return alpha, beta


def _add(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    out = dict(a)
    for c, n in b.items():
        out[c] = out.get(c, 0) + n
    return dict(sorted(out.items()))


def _known(what: str, kind: str, names, known: set) -> None:
    missing = [n for n in names if n not in known]
    if missing:
        hint = f"Known {kind}: {format_ids(known)}." if known else "Add them first."
        raise UnknownIdError(f"RdsSpec: {what} refers to unknown {kind} {format_ids(missing)}. {hint}")


# ---------------------------------------------------------------- plain-data form (JSON)
_KINDS = (
    ("components", Component), ("genes", Gene), ("spaces", Space), ("links", SpaceLink), ("nodes", Node),
    ("reactions", Reaction), ("diffusion", Diffusion), ("hamiltonian", HamiltonianEdge),
)


def spec_to_dict(spec: RdsSpec) -> dict:
    """The spec as JSON-ready plain data (lists and dicts); :func:`spec_from_dict` inverts it."""
    out: dict = {"name": spec.name, "notes": spec.notes}
    for key, _ in _KINDS:
        rows = []
        for el in getattr(spec, key):
            row = {f: getattr(el, f) for f in el.__dataclass_fields__}
            rows.append({f: list(v) if isinstance(v, tuple) else dict(v) if isinstance(v, Mapping) else v
                         for f, v in row.items()})
        out[key] = rows
    return out


def spec_from_dict(data: Mapping) -> RdsSpec:
    """Build (and validate) a spec from :func:`spec_to_dict`'s output."""
    if not isinstance(data, Mapping):
        raise InvalidValueError(f"spec_from_dict expects a mapping, got {type(data).__name__}.")
    known = {"name", "notes"} | {k for k, _ in _KINDS}
    extra = sorted(set(data) - known)
    if extra:
        raise InvalidValueError(f"spec_from_dict: unknown keys {format_ids(extra)}. Known: {format_ids(known)}.")
    kwargs: dict = {k: data[k] for k in ("name", "notes") if k in data}
    for key, cls in _KINDS:
        rows = data.get(key, [])
        try:
            kwargs[key] = tuple(cls(**{f: tuple(v) if isinstance(v, list) else v for f, v in row.items()})
                                for row in rows)
        except TypeError as exc:
            raise InvalidValueError(f"spec_from_dict: a {cls.__name__} entry is malformed ({exc}). "
                                    f"Give the fields {format_ids(cls.__dataclass_fields__)}.") from None
    return RdsSpec(**kwargs)
