"""HyperNEAT substrates, the expression rule, and the mirror sanity task solved."""

from __future__ import annotations

import numpy as np
import pytest

from epl_sysbio.errors import InvalidValueError
from epl_sysbio.evolve import EvolveConfig, compile_genome, evolve
from epl_sysbio.evolve.hyperneat import HyperNeatConfig, Substrate, express, query_pairs
from epl_sysbio.evolve.mirror import MIRROR_EXPRESSION, mirror_fitness, mirror_neat_config, mirror_substrate, \
    mirror_target


def test_substrates():
    s = Substrate.all_pairs(np.zeros((4, 2)))
    assert len(s.sources) == 12 and not np.any(s.sources == s.targets)
    assert len(Substrate.all_pairs(np.zeros((4, 2)), self_loops=True).sources) == 16
    layered = Substrate.layered([np.zeros((3, 2)), np.ones((2, 2)), np.full((1, 2), 2.0)])
    assert layered.n_nodes == 6 and len(layered.sources) == 3 * 2 + 2 * 1
    assert set(layered.targets[:6]) == {3, 4} and set(layered.sources[6:]) == {3, 4}
    with pytest.raises(InvalidValueError, match="node indices in"):
        Substrate(np.zeros((2, 1)), [0], [2])


def test_query_is_vectorised_over_pairs():
    s = Substrate.all_pairs(np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]))
    calls = []

    def cppn(x):
        calls.append(x.shape)
        return x @ np.array([[1.0], [10.0], [100.0], [1000.0]])

    out = query_pairs(cppn, s)
    assert calls == [(6, 4)]
    c = s.coordinates
    for k, (i, j) in enumerate(zip(s.sources, s.targets)):
        assert out[k, 0] == c[i, 0] + 10 * c[i, 1] + 100 * c[j, 0] + 1000 * c[j, 1]


def test_expression_rule_with_threshold_and_with_leo():
    s = Substrate(np.zeros((3, 1)), [0, 0, 1, 2], [1, 2, 2, 0])
    outputs = np.array([[0.1, 1.0], [0.6, -1.0], [-1.0, 1.0], [-0.2, -1.0]])
    e = express(lambda x: outputs, s, HyperNeatConfig(weight_threshold=0.2, max_weight=3.0))
    assert list(e.sources) == [0, 1] and list(e.targets) == [2, 2]
    np.testing.assert_allclose(e.weights, [(0.6 - 0.2) / 0.8 * 3.0, -3.0])
    leo = express(lambda x: outputs, s, HyperNeatConfig(use_leo=True, max_weight=2.0))
    assert list(zip(leo.sources, leo.targets)) == [(0, 1), (1, 2)]
    np.testing.assert_allclose(leo.weights, [0.2, -2.0])
    m = leo.matrix()
    assert m[0, 1] == 0.2 and m[1, 2] == -2.0 and np.count_nonzero(m) == 2
    with pytest.raises(InvalidValueError, match="weight_threshold"):
        HyperNeatConfig(weight_threshold=1.0)


def test_mirror_target_has_one_partner_per_node():
    s = mirror_substrate()
    target = mirror_target(s)
    assert s.n_nodes == 16 and len(target) == 240 and target.sum() == 16
    c = s.coordinates
    np.testing.assert_allclose(c[s.sources[target]] * [-1, 1], c[s.targets[target]])


@pytest.mark.parametrize("seed", [4, 5])
def test_hyperneat_solves_the_mirror_task(seed):
    config = EvolveConfig(neat=mirror_neat_config()).replace(
        run={"seed": seed, "generations": 150, "executor": "serial", "progress": False, "plots": False})
    result = evolve(mirror_fitness, config)
    assert result.solved
    s = mirror_substrate()
    expressed = express(compile_genome(result.solution), s, MIRROR_EXPRESSION)
    want = np.zeros((16, 16), dtype=bool)
    want[s.sources[mirror_target(s)], s.targets[mirror_target(s)]] = True
    np.testing.assert_array_equal(expressed.matrix() != 0, want)
