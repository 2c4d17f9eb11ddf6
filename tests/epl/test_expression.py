"""EPL substrate expression (Algorithm 2): counts for known CPPNs and invariants on random ones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from epl_sysbio.epl.expression import EplSubstrateConfig, express_substrate
from epl_sysbio.errors import InvalidValueError
from epl_sysbio.evolve import NeatConfig, compile_genome, random_genome


def constant(o0: float, o1: float, o2: float):
    return lambda x: np.tile([o0, o1, o2], (len(x), 1))


def test_everything_exists_under_a_positive_cppn():
    cfg = EplSubstrateConfig(n_genes=3, n_spaces=3, rate_scale=2.0)
    rds = express_substrate(constant(0.5, 0.5, 0.5), cfg)
    y = np.arctanh(0.5)
    n_complex = 3 * 4 // 2
    assert len(rds.components) == 3 and len(rds.genes) == 3 + n_complex
    assert len(rds.spaces) == 3 and len(rds.space_links) == 3
    assert len(rds.nodes) == len(rds.genes) * 3
    assert len(rds.reactions) == n_complex * 3
    assert len(rds.diffusion) == len(rds.hamiltonian) == len(rds.genes) * 3
    assert all(r.rate == pytest.approx(2.0 * y) for r in rds.reactions + rds.diffusion + rds.hamiltonian)
    assert all(n.reservoir_rate == pytest.approx(2.0 * y) for n in rds.nodes)
    assert all(c.mass == pytest.approx(1.0 + y) and c.charge == 1 for c in rds.components)
    # the dimer of gene 0 has twice its composition, mass and charge
    dimer = rds.genes[3]
    assert dimer.composition == (2, 0, 0) and dimer.charge == 2 and dimer.mass == pytest.approx(2 * (1 + y))
    assert rds.space_links[0].distance == pytest.approx(1 / 3)
    inv = rds.inverse_distance()
    assert inv[0, 1] == pytest.approx(3.0) and inv[0, 0] == 0.0


def test_reservoirs_off_leaves_every_node_closed_and_the_rest_unchanged():
    on = express_substrate(constant(0.5, 0.5, 0.5), EplSubstrateConfig(n_genes=2, n_spaces=2))
    off = express_substrate(constant(0.5, 0.5, 0.5), EplSubstrateConfig(n_genes=2, n_spaces=2, reservoirs=False))
    assert all(n.reservoir_rate > 0 for n in on.nodes) and all(n.reservoir_rate == 0 for n in off.nodes)
    assert len(off.nodes) == len(on.nodes) and off.reactions == on.reactions and off.hamiltonian == on.hamiltonian


def test_nothing_exists_under_a_negative_cppn_and_thresholds_apply():
    rds = express_substrate(constant(-0.5, 0.9, 0.9))
    assert rds.genes == () and rds.nodes == () and rds.reactions == ()
    # o0 = 0.5 gives y0 = 0.549: exists at threshold 0.5, not at 0.6
    assert len(express_substrate(constant(0.5, 0.5, 0.5), EplSubstrateConfig(existence_threshold=0.5)).genes) > 0
    assert express_substrate(constant(0.5, 0.5, 0.5), EplSubstrateConfig(existence_threshold=0.6)).genes == ()
    # o1 <= 0: no neighbours, so no transport; no reservoir
    rds = express_substrate(constant(0.5, -0.5, 0.5))
    assert rds.space_links == () and rds.diffusion == () and rds.hamiltonian == ()
    assert all(n.reservoir_rate == 0.0 for n in rds.nodes) and len(rds.reactions) > 0


def test_saturated_outputs_stay_finite():
    rds = express_substrate(constant(1.0, 1.0, -1.0), EplSubstrateConfig(clip_eps=1e-6, max_charge=3))
    rates = [r.rate for r in rds.reactions]
    assert np.all(np.isfinite(rates)) and max(rates) == pytest.approx(np.arctanh(1 - 1e-6))
    assert all(c.charge == -3 for c in rds.components)


def test_queries_are_made_in_one_vectorised_call_with_zero_for_unasked():
    calls = []

    def cppn(x):
        calls.append(x.copy())
        return np.full((len(x), 3), 0.3)

    express_substrate(cppn, EplSubstrateConfig(n_genes=2, n_spaces=2))
    assert len(calls) == 1 and calls[0].shape[1] == 4
    x = calls[0]
    assert len(np.unique(x, axis=0)) == len(x)
    assert any((row == [0.5, 0, 0, 0]).all() for row in x)  # gene existence question


def test_bad_cppn_and_config_are_refused():
    with pytest.raises(InvalidValueError, match="cppn"):
        express_substrate(lambda x: np.zeros((len(x), 2)))
    with pytest.raises(InvalidValueError, match="non-finite"):
        express_substrate(lambda x: np.full((len(x), 3), np.nan))
    with pytest.raises(InvalidValueError, match="'n_genes' parameter of EplSubstrateConfig"):
        EplSubstrateConfig(n_genes=0)


def random_cppn(seed: int):
    rng = np.random.default_rng(seed)
    cfg = NeatConfig(n_inputs=4, n_outputs=3, output_activation="tanh",
                     activations=("sin", "gauss", "tanh", "sigmoid"), weight_max=1.5)
    net = compile_genome(random_genome(cfg, rng, rounds=6))
    # shift the existence output up so that most random systems are not empty
    return lambda x: net(x) * [0.5, 1.0, 1.0] + [0.45, 0.0, 0.0]


def test_random_cppns_express_non_trivial_systems():
    sizes = [len(express_substrate(random_cppn(s), EplSubstrateConfig(n_genes=3, n_spaces=3)).reactions)
             for s in range(20)]
    assert sum(n > 0 for n in sizes) >= 10


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 100_000), n_genes=st.integers(1, 4), n_spaces=st.integers(1, 3))
def test_expressed_systems_conserve_composition_and_respect_locality(seed, n_genes, n_spaces):
    cfg = EplSubstrateConfig(n_genes=n_genes, n_spaces=n_spaces)
    cppn = random_cppn(seed)
    rds = express_substrate(cppn, cfg)
    assert express_substrate(cppn, cfg) == rds  # deterministic
    alpha, beta = rds.stoichiometry()
    nu = beta - alpha
    np.testing.assert_array_equal(rds.node_composition().T @ nu, 0.0)  # M^T nu = 0 for every edge
    neighbours = {(link.a, link.b) for link in rds.space_links}
    for r in rds.reactions:  # 2 -> 1 within one space
        spaces = {rds.nodes[i].space for i in (*r.reactants, r.product)}
        assert len(spaces) == 1 and r.rate >= 0
    for e in rds.diffusion + rds.hamiltonian:  # same gene, neighbouring spaces
        a, b = rds.nodes[e.a], rds.nodes[e.b]
        assert a.gene == b.gene and (a.space, b.space) in neighbours and e.rate >= 0
    for n in rds.nodes:
        assert n.mass == pytest.approx(rds.genes[n.gene].mass) and n.mass >= cfg.mass_min
        assert n.reservoir_rate >= 0
    for gene in rds.genes:
        assert sum(gene.composition) in (1, 2)
