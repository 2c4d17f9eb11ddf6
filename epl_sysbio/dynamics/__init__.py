"""epl_sysbio.dynamics: the EPL molecular dynamical system (DESIGN.md section 2).

Public API
----------
Spec (:mod:`.spec`), frozen dataclasses validated at construction:
    ``RdsSpec(name=, components=, genes=, spaces=, links=, nodes=, reactions=, diffusion=, hamiltonian=, notes=)``
    with ``Component(name, mass, charge)``, ``Gene(name, composition={component: count}, potential=a)``,
    ``Space(name)``, ``SpaceLink(a, b, distance)``,
    ``Node(gene, space, initial_amount, reservoir=h, friction=c, roles=("input"|"output"|"feedback", ...))``,
    ``Reaction(reactants=(gi, gj), product=gk, space, rate=k)``, ``Diffusion(gene, a, b, rate=k)``,
    ``HamiltonianEdge(gene, a, b, rate=v)``.
    Lookups: ``spec.node(gene, space)``, ``spec.species_id(node)`` / ``node.species_id`` (``"x_<gene>_<space>"``),
    ``spec.nodes_with_role("input")``, ``spec.node_index``; matrices ``composition_matrix()`` (M),
    ``masses()``, ``charges()``, ``potentials()``, ``electric_matrix()`` (V), ``stoichiometry()``.
    ``spec_to_dict`` / ``spec_from_dict``: plain JSON-ready data.

NumPy reference (:mod:`.reference`): ``ReferenceDynamics(spec)`` with ``energy(x, p)``,
    ``chemical_potential``, ``velocity``, ``rhs(x, p, flows=FLOWS)``, ``conserved_totals``; batched over
    leading dimensions.

SBML (:mod:`.sbml`): ``spec_to_model(spec) -> Model`` and ``spec_from_model(model) -> RdsSpec``.

Random specs (:mod:`.sampling`): ``random_spec(rng, n_nodes=...)`` for tests and benchmarks.

Examples (:mod:`.examples`): ``appendix_b_spec()``, the source of the bundled model ``epl_appendix_b``.

Diagrams (:mod:`.diagram`): ``plot_network(path, spec)`` draws a spec as a bipartite species/reaction graph.

See docs/dynamics.md for the maths-to-code map.
"""

from epl_sysbio.dynamics.examples import appendix_b_spec
from epl_sysbio.dynamics.reference import FLOWS, ReferenceDynamics
from epl_sysbio.dynamics.sampling import random_spec
from epl_sysbio.dynamics.sbml import RDS_NAMESPACE, spec_from_model, spec_to_model
from epl_sysbio.dynamics.spec import (
    ROLES,
    Component,
    Diffusion,
    Gene,
    HamiltonianEdge,
    Node,
    RdsSpec,
    Reaction,
    Space,
    SpaceLink,
    spec_from_dict,
    spec_to_dict,
)

__all__ = [
    "FLOWS",
    "RDS_NAMESPACE",
    "ROLES",
    "Component",
    "Diffusion",
    "Gene",
    "HamiltonianEdge",
    "Node",
    "RdsSpec",
    "Reaction",
    "ReferenceDynamics",
    "Space",
    "SpaceLink",
    "appendix_b_spec",
    "random_spec",
    "spec_from_dict",
    "spec_from_model",
    "spec_to_dict",
    "spec_to_model",
]
