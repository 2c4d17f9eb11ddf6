"""The role rule (assign_roles): roles on the largest connected component, ordered by (space, gene)."""

from __future__ import annotations

import dataclasses

import numpy as np

from epl_sysbio.epl.expression import EplSubstrateConfig, express_substrate
from epl_sysbio.epl.substrate import assign_roles


def test_roles_go_to_the_largest_component_in_space_then_gene_order():
    # everything exists: 2 elementary genes and 3 complexes in 2 spaces, one connected component of 10 nodes
    spec = express_substrate(lambda x: np.full((len(x), 3), 0.5), EplSubstrateConfig(n_genes=2, n_spaces=2))
    # a lone extra node (gene g0 alone in a new space) is a smaller component and gets no role
    spec = dataclasses.replace(spec, spaces=spec.spaces + (dataclasses.replace(spec.spaces[0], name="s9"),),
                               nodes=(dataclasses.replace(spec.nodes[0], space="s9"),) + spec.nodes)
    network = assign_roles(spec, 3, 2, 1)
    assert network.inputs == ("x_g0_s0", "x_g1_s0", "x_g2_s0")
    assert network.feedback == ("x_g2_s1",) and network.outputs == ("x_g3_s1", "x_g4_s1")
    for role, ids in (("input", network.inputs), ("output", network.outputs), ("feedback", network.feedback)):
        assert {n.species_id for n in network.spec.nodes_with_role(role)} == set(ids)
    assert sum(len(n.roles) for n in network.spec.nodes) == 6
    assert dataclasses.replace(network.spec, nodes=spec.nodes) == spec  # only the roles changed
    assert network.size == 11 + len(spec.reactions) + len(spec.diffusion) + len(spec.hamiltonian)


def test_a_component_smaller_than_the_task_is_a_reason():
    spec = express_substrate(lambda x: np.full((len(x), 3), 0.5), EplSubstrateConfig(n_genes=2, n_spaces=2))
    assert assign_roles(spec, 8, 2, 1) == ("the largest connected part of the network has 10 nodes; the task "
                                           "needs 11 (8 input, 1 feedback, 2 output)")
