"""EPL substrate expression (Algorithm 2): counts for known CPPNs, the rule re-applied query by query on random
ones, invariants, and the spec through SBML and the reference dynamics."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from epl_sysbio.dynamics import ReferenceDynamics, spec_from_model, spec_to_model
from epl_sysbio.epl.expression import EplSubstrateConfig, express_substrate
from epl_sysbio.errors import InvalidValueError
from epl_sysbio.evolve import NeatConfig, compile_genome, random_genome


def constant(o0: float, o1: float, o2: float):
    return lambda x: np.tile([o0, o1, o2], (len(x), 1))


def test_everything_exists_under_a_positive_cppn():
    cfg = EplSubstrateConfig(n_genes=3, n_spaces=3, rate_scale=2.0, friction=0.3)
    spec = express_substrate(constant(0.5, 0.5, 0.5), cfg, name="all", initial_amount=2.0)
    y = np.arctanh(0.5)
    n_complex = 3 * 4 // 2
    assert spec.name == "all"
    assert [c.name for c in spec.components] == ["c0", "c1", "c2"]
    assert [g.name for g in spec.genes] == [f"g{i}" for i in range(3 + n_complex)]
    assert [s.name for s in spec.spaces] == ["s0", "s1", "s2"] and len(spec.links) == 3
    assert [n.key for n in spec.nodes] == [(g.name, s.name) for g in spec.genes for s in spec.spaces]
    assert len(spec.reactions) == n_complex * 3
    assert len(spec.diffusion) == len(spec.hamiltonian) == len(spec.genes) * 3
    assert all(r.rate == pytest.approx(2.0 * y) for r in spec.reactions + spec.diffusion + spec.hamiltonian)
    assert all(n.reservoir == pytest.approx(2.0 * y) and n.friction == 0.3 and n.initial_amount == 2.0
               and n.roles == () for n in spec.nodes)
    assert all(c.mass == pytest.approx(1.0 + y) and c.charge == 1.0 for c in spec.components)
    np.testing.assert_allclose(spec.potentials(), y)
    # elementary gene g<i> is component c<i>; the dimer of gene 0 has twice its composition, mass and charge
    assert [g.composition for g in spec.genes[:3]] == [{"c0": 1}, {"c1": 1}, {"c2": 1}]
    assert spec.genes[3].composition == {"c0": 2} and spec.gene_charge("g3") == 2.0
    assert spec.gene_mass("g3") == pytest.approx(2 * (1 + y))
    assert [(k.a, k.b, k.distance) for k in spec.links] == [
        ("s0", "s1", pytest.approx(1 / 3)), ("s0", "s2", pytest.approx(2 / 3)), ("s1", "s2", pytest.approx(1 / 3))]
    inv = spec.inverse_distance()
    assert inv[0, 1] == pytest.approx(3.0) and inv[0, 2] == pytest.approx(1.5) and inv[0, 0] == 0.0


def test_reservoirs_off_closes_every_node_and_changes_nothing_else():
    on = express_substrate(constant(0.5, 0.5, 0.5), EplSubstrateConfig(n_genes=2, n_spaces=2))
    off = express_substrate(constant(0.5, 0.5, 0.5), EplSubstrateConfig(n_genes=2, n_spaces=2, reservoirs=False))
    assert all(n.reservoir > 0 for n in on.nodes)
    assert off == dataclasses.replace(on, nodes=tuple(dataclasses.replace(n, reservoir=0.0) for n in on.nodes))


def test_nothing_exists_under_a_negative_cppn_and_thresholds_apply():
    assert express_substrate(constant(-0.5, 0.9, 0.9)) is None  # no nodes: no dynamics
    # o0 = 0.5 gives y0 = 0.549: exists at threshold 0.5, not at 0.6
    assert express_substrate(constant(0.5, 0.5, 0.5), EplSubstrateConfig(existence_threshold=0.5)).genes
    assert express_substrate(constant(0.5, 0.5, 0.5), EplSubstrateConfig(existence_threshold=0.6)) is None
    # o1 <= 0: no neighbours, so no transport; no reservoir
    spec = express_substrate(constant(0.5, -0.5, 0.5))
    assert spec.links == () and spec.diffusion == () and spec.hamiltonian == ()
    assert all(n.reservoir == 0.0 for n in spec.nodes) and len(spec.reactions) > 0


def test_genes_without_spaces_express_no_system():
    # every existence question says yes except "does space s exist" (asked as (0, s, 0, 0))
    def cppn(x):
        out = np.full((len(x), 3), 0.5)
        out[(x[:, 0] == 0) & (x[:, 1] > 0), 0] = -0.5
        return out

    assert express_substrate(cppn) is None
    assert express_substrate(constant(0.5, 0.5, 0.5)) is not None


def test_saturated_outputs_stay_finite():
    spec = express_substrate(constant(1.0, 1.0, -1.0), EplSubstrateConfig(clip_eps=1e-6, max_charge=3))
    rates = [r.rate for r in spec.reactions]
    assert np.all(np.isfinite(rates)) and max(rates) == pytest.approx(np.arctanh(1 - 1e-6))
    assert all(c.charge == -3.0 for c in spec.components)


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


def test_bad_cppn_config_and_name_are_refused():
    with pytest.raises(InvalidValueError, match="cppn"):
        express_substrate(lambda x: np.zeros((len(x), 2)))
    with pytest.raises(InvalidValueError, match="non-finite"):
        express_substrate(lambda x: np.full((len(x), 3), np.nan))
    with pytest.raises(InvalidValueError, match="'n_genes' parameter of EplSubstrateConfig"):
        EplSubstrateConfig(n_genes=0)
    with pytest.raises(InvalidValueError, match="'name' parameter of RdsSpec"):
        express_substrate(constant(0.5, 0.5, 0.5), name="1 bad")


def random_cppn(seed: int):
    rng = np.random.default_rng(seed)
    cfg = NeatConfig(n_inputs=4, n_outputs=3, output_activation="tanh",
                     activations=("sin", "gauss", "tanh", "sigmoid"), weight_max=1.5)
    net = compile_genome(random_genome(cfg, rng, rounds=6))
    # shift the existence output up so that most random systems are not empty
    return lambda x: net(x) * [0.5, 1.0, 1.0] + [0.45, 0.0, 0.0]


def test_random_cppns_express_non_trivial_systems():
    specs = [express_substrate(random_cppn(s), EplSubstrateConfig(n_genes=3, n_spaces=3)) for s in range(20)]
    assert sum(spec is not None and len(spec.reactions) > 0 for spec in specs) >= 10


def check_rule_query_by_query(cppn, cfg: EplSubstrateConfig, spec) -> None:
    """The module docstring's rule, re-applied by asking the CPPN one point at a time."""
    def y(k, *point):
        return float(np.arctanh(np.clip(cppn(np.array([point], dtype=float))[0, k], -1 + cfg.clip_eps,
                                        1 - cfg.clip_eps)))

    t, rate = cfg.existence_threshold, lambda v: cfg.rate_scale * abs(v)
    elem = [(k + 1) / cfg.n_genes for k in range(cfg.n_genes)]
    pairs = [(i, j) for i in range(cfg.n_genes) for j in range(i, cfg.n_genes)]
    comps = [k for k in range(cfg.n_genes) if y(0, elem[k], 0, 0, 0) > t]
    assert [(c.name, c.mass, c.charge) for c in spec.components] == [
        (f"c{n}", pytest.approx(cfg.mass_min + cfg.mass_scale * abs(y(2, elem[k], 0, 0, 0))),
         float(np.clip(round(y(2, 0, 0, elem[k], 0)), -cfg.max_charge, cfg.max_charge))) for n, k in enumerate(comps)]
    coord = {f"g{n}": elem[k] for n, k in enumerate(comps)}  # gene name -> coordinate
    parents = {}
    for p, (i, j) in enumerate(pairs):
        if i in comps and j in comps and y(0, elem[i], 0, elem[j], 0) > t:
            parents[f"g{len(coord)}"] = (f"g{comps.index(i)}", f"g{comps.index(j)}")
            coord[f"g{len(coord)}"] = -(p + 1) / len(pairs)
    assert [g.name for g in spec.genes] == list(coord)
    np.testing.assert_allclose([g.potential for g in spec.genes], [y(1, x, 0, 0, 0) for x in coord.values()])
    place = {f"s{n}": s for n, s in enumerate(s for s in ((m + 1) / cfg.n_spaces for m in range(cfg.n_spaces))
                                             if y(0, 0, s, 0, 0) > t)}
    assert [s.name for s in spec.spaces] == list(place)
    names = list(place)
    assert [(k.a, k.b, k.distance) for k in spec.links] == [
        (a, b, pytest.approx(abs(place[a] - place[b]))) for n, a in enumerate(names) for b in names[n + 1:]
        if y(1, 0, place[a], 0, place[b]) > t]
    nodes = [(g, s) for g in coord for s in place if y(0, coord[g], place[s], 0, 0) > t]
    assert [n.key for n in spec.nodes] == nodes
    for n in spec.nodes:
        g, s = coord[n.gene], place[n.space]
        open_ = cfg.reservoirs and y(1, g, s, 0, 0) > t
        assert n.reservoir == pytest.approx(rate(y(2, g, s, 0, 0)) if open_ else 0.0)
        assert n.friction == cfg.friction and n.initial_amount == 1.0 and n.roles == ()
    assert [(r.reactants, r.product, r.space, r.rate) for r in spec.reactions] == [
        (tuple(sorted((a, b))), c, s, pytest.approx(rate(y(2, coord[a], place[s], coord[b], place[s]))))
        for c, (a, b) in parents.items() for s in place
        if {(a, s), (b, s), (c, s)} <= set(nodes) and y(0, coord[a], place[s], coord[b], place[s]) > t]
    transport = [(g, k.a, k.b, coord[g], place[k.a], place[k.b]) for g in coord for k in spec.links
                 if {(g, k.a), (g, k.b)} <= set(nodes)]
    assert [(e.gene, e.a, e.b, e.rate) for e in spec.diffusion] == [
        (g, a, b, pytest.approx(rate(y(2, x, sa, x, sb)))) for g, a, b, x, sa, sb in transport
        if y(0, x, sa, x, sb) > t]
    assert [(e.gene, e.a, e.b, e.rate) for e in spec.hamiltonian] == [
        (g, a, b, pytest.approx(rate(y(2, x, sb, x, sa)))) for g, a, b, x, sa, sb in transport
        if y(1, x, sa, x, sb) > t]


@pytest.mark.parametrize("cfg", [
    EplSubstrateConfig(n_genes=3, n_spaces=3),
    EplSubstrateConfig(n_genes=4, n_spaces=2, existence_threshold=-0.3, rate_scale=2.5, mass_min=0.5, mass_scale=3.0,
                       max_charge=1, friction=0.7),
    EplSubstrateConfig(n_genes=2, n_spaces=4, reservoirs=False, clip_eps=1e-3, max_charge=3),
], ids=["3x3", "4x2-scaled", "2x4-closed"])
def test_random_expressions_follow_the_rule_and_survive_sbml_and_the_reference_dynamics(cfg):
    checked = 0
    for seed in range(12):
        cppn = random_cppn(seed)
        spec = express_substrate(cppn, cfg, name=f"cppn{seed}")
        if spec is None:
            continue
        check_rule_query_by_query(cppn, cfg, spec)
        assert spec_from_model(spec_to_model(spec)) == spec
        ReferenceDynamics(spec)  # builds
        checked += 1
    assert checked >= 6


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 100_000), n_genes=st.integers(1, 4), n_spaces=st.integers(1, 3))
def test_expressed_systems_conserve_composition_and_respect_locality(seed, n_genes, n_spaces):
    cfg = EplSubstrateConfig(n_genes=n_genes, n_spaces=n_spaces)
    cppn = random_cppn(seed)
    spec = express_substrate(cppn, cfg)
    assert express_substrate(cppn, cfg) == spec  # deterministic
    if spec is None:
        return
    alpha, beta = spec.stoichiometry()
    np.testing.assert_array_equal(spec.composition_matrix().T @ (beta - alpha), 0.0)  # M^T nu = 0 for every edge
    neighbours = {(link.a, link.b) for link in spec.links}
    assert all(r.rate >= 0 for r in spec.reactions)  # 2 -> 1 within one space (a Reaction has one space)
    for e in spec.diffusion + spec.hamiltonian:  # same gene, neighbouring spaces
        assert (e.a, e.b) in neighbours and e.rate >= 0
    assert np.all(spec.masses() >= cfg.mass_min) and all(n.reservoir >= 0 for n in spec.nodes)
    assert all(sum(gene.composition.values()) in (1, 2) for gene in spec.genes)
