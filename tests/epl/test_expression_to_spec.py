"""ExpressedRds.to_spec: an expressed CPPN becomes a validated dynamics spec with the same matrices."""

from __future__ import annotations

import numpy as np
import pytest

from epl_sysbio.dynamics import ReferenceDynamics, spec_from_model, spec_to_model
from epl_sysbio.epl.expression import EplSubstrateConfig, express_substrate
from epl_sysbio.errors import InvalidValueError

from test_expression import constant, random_cppn


def expressed(seeds):
    for seed in seeds:
        rds = express_substrate(random_cppn(seed), EplSubstrateConfig(n_genes=3, n_spaces=3))
        if rds.nodes:
            yield seed, rds


def test_expressed_rds_becomes_a_spec_with_the_same_structure():
    checked = 0
    for seed, rds in expressed(range(12)):
        check_spec_of(seed, rds)
        checked += 1
    assert checked >= 6


def check_spec_of(seed, rds):
    spec = rds.to_spec(name=f"cppn{seed}", roles={0: ("input",), len(rds.nodes) - 1: ("output",)})
    alpha, beta = rds.stoichiometry()
    s_alpha, s_beta = spec.stoichiometry()
    np.testing.assert_array_equal(s_beta - s_alpha, beta - alpha)
    np.testing.assert_array_equal(spec.composition_matrix(), rds.node_composition())
    np.testing.assert_allclose(spec.masses(), [n.mass for n in rds.nodes], rtol=1e-12)
    np.testing.assert_allclose(spec.charges(), [n.charge for n in rds.nodes])
    np.testing.assert_allclose(spec.inverse_distance(), rds.inverse_distance())
    assert [n.reservoir for n in spec.nodes] == [n.reservoir_rate for n in rds.nodes]
    assert spec.nodes_with_role("input") == (spec.nodes[0],)
    assert spec_from_model(spec_to_model(spec)) == spec
    ReferenceDynamics(spec)  # builds


def test_an_empty_expression_has_no_spec():
    rds = express_substrate(constant(-0.5, 0.9, 0.9))
    with pytest.raises(InvalidValueError, match="no nodes"):
        rds.to_spec()
