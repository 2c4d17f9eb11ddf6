"""RdsSpec validation: invalid specs are refused with the offending element named."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from epl_sysbio.dynamics import (
    Component,
    Diffusion,
    Gene,
    HamiltonianEdge,
    Node,
    Reaction,
    SpaceLink,
    spec_from_dict,
    spec_to_dict,
)
from epl_sysbio.errors import InvalidValueError, UnknownIdError

from rds_fixtures import small_spec, spec  # noqa: F401 (fixtures)


def test_matrices_of_the_small_spec(spec):
    assert spec.species_id(("A", "out")) == "x_A_out" == spec.node("A", "out").species_id
    np.testing.assert_allclose(spec.masses(), [1, 1, 1, 2, 3, 2, 3])
    np.testing.assert_allclose(spec.charges(), [1, 1, 1, -1, 0, -1, 0])
    alpha, beta = spec.stoichiometry()
    np.testing.assert_array_equal(spec.composition_matrix().T @ (beta - alpha), 0.0)
    v = spec.electric_matrix()
    # A@out (q=1) and B@mem (q=-1) are in neighbouring spaces at distance 1; same space: no term.
    assert v[0, 5] == -1.0 and v[1, 5] == 0.0 and v[2, 5] == pytest.approx(-0.5)
    np.testing.assert_array_equal(v, v.T)
    assert spec.momentum_nodes == (1, 2)
    assert spec_from_dict(spec_to_dict(spec)) == spec


def replace(spec, **changes):
    return dataclasses.replace(spec, **changes)


@pytest.mark.parametrize("change, error, pattern", [
    (dict(reactions=(Reaction(reactants=("A", "A"), product="AB", space="ins"),)), InvalidValueError,
     "R_A_A_AB_ins does not conserve composition"),
    (dict(reactions=(Reaction(reactants=("A", "Q"), product="AB", space="ins"),)), UnknownIdError,
     "reaction R_A_Q_AB_ins refers to unknown genes 'Q'"),
    (dict(reactions=(Reaction(reactants=("A", "B"), product="AB", space="out"),)), UnknownIdError,
     "unknown nodes \\(gene@space\\) 'AB@out', 'B@out'"),
    (dict(diffusion=(Diffusion(gene="A", a="out", b="ins"),)), InvalidValueError,
     "D_A_out_ins joins spaces 'out' and 'ins', which are not neighbours"),
    (dict(hamiltonian=(HamiltonianEdge(gene="B", a="mem", b="out"),)), UnknownIdError,
     "H_B_mem_out refers to unknown nodes \\(gene@space\\) 'B@out'"),
    (dict(links=(SpaceLink(a="out", b="mem"), SpaceLink(a="mem", b="out"))), InvalidValueError,
     "duplicate space links"),
    (dict(genes=(Gene(name="A", composition={"a": 1}), Gene(name="B", composition={"z": 1}),
                 Gene(name="AB", composition={"a": 1, "b": 1}))), UnknownIdError,
     "gene 'B' refers to unknown components 'z'"),
    (dict(nodes=()), InvalidValueError, "no nodes"),
])
def test_invalid_specs_name_the_element(spec, change, error, pattern):
    with pytest.raises(error, match=pattern):
        replace(spec, **change)


@pytest.mark.parametrize("make, pattern", [
    (lambda: Component(name="a_b"), "'name' parameter of Component must be letters and digits"),
    (lambda: Component(name="a", mass=0.0), "'mass' parameter of Component 'a' must be a float in \\(0, inf\\)"),
    (lambda: Gene(name="G", composition={"a": -1}), "'composition' parameter of Gene 'G'"),
    (lambda: Node(gene="A", space="s", reservoir=-0.1), "'reservoir' parameter of Node A@s .* Got -0.1"),
    (lambda: Node(gene="A", space="s", roles=("inputs",)), "unknown roles 'inputs'"),
    (lambda: SpaceLink(a="s", b="s"), "not its own neighbour"),
    (lambda: SpaceLink(a="s", b="t", distance=0), "'distance'"),
    (lambda: Reaction(reactants=("A",), product="B", space="s"), "two gene names"),
    (lambda: Reaction(reactants=("A", "B"), product="AB", space="ins", rate=-1.0),
     "'rate' parameter of Reaction R_A_B_AB_ins must be a float in \\[0, inf\\)\\. Got -1\\.0"),
    (lambda: HamiltonianEdge(gene="A", a="mem", b="ins", rate=float("nan")),
     "'rate' parameter of HamiltonianEdge H_A_mem_ins"),
])
def test_invalid_elements_are_refused(make, pattern):
    with pytest.raises(InvalidValueError, match=pattern):
        make()


def test_roles_and_lookups():
    spec = small_spec()
    assert [n.key for n in spec.nodes_with_role("input")] == [("A", "out")]
    assert spec.nodes_with_role("feedback") == ()
    with pytest.raises(InvalidValueError, match="unknown role 'in'"):
        spec.nodes_with_role("in")
    with pytest.raises(UnknownIdError, match="no node B@out"):
        spec.node("B", "out")
    assert Node(gene="A", space="s", roles="output").roles == ("output",)


def test_subnormal_values_become_zero():
    # libRoadRunner reads a subnormal number in SBML as a missing value and refuses the model.
    assert Gene(name="G", composition={"c": 1}, potential=5e-324).potential == 0.0
    assert Component(name="c", charge=-1e-310).charge == 0.0
    with pytest.raises(InvalidValueError, match="'mass'"):
        Component(name="c", mass=1e-310)
