"""Vectorised CPPN evaluation against hand computations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from epl_sysbio.errors import InvalidValueError
from epl_sysbio.evolve import NeatConfig, activation_function, compile_genome, random_genome
from epl_sysbio.evolve.cppn import SMALL_BATCH

from test_evolve_operators import build


def sig(x):
    return 1.0 / (1.0 + np.exp(-4.9 * x))


def test_feed_forward_matches_hand_computation():
    # x0 -> h4 (0.5), x1 -> h4 (-1), bias -> h4 (0.3), h4 -> out (2), x0 -> out (0.7), h5 dangling
    g = build([(0, 0, 4, 0.5), (1, 1, 4, -1.0), (2, 2, 4, 0.3), (3, 4, 3, 2.0), (4, 0, 3, 0.7),
               (5, 1, 5, 1.0), (6, 1, 3, 9.0, False)])
    x = np.array([[0.0, 0.0], [0.2, -0.4], [1.0, 1.0]])
    h = sig(0.5 * x[:, 0] - x[:, 1] + 0.3)
    expected = sig(2.0 * h + 0.7 * x[:, 0])
    out = compile_genome(g)(x)
    assert out.shape == (3, 1)
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-12)


def test_recurrent_matches_manual_iteration():
    # self-loop on the output: y_{t+1} = tanh(0.9 y_t + x), from y_0 = 0, 3 steps
    g = build([(0, 0, 3, 1.0), (1, 3, 3, 0.9)], hidden=())
    g.nodes[3] = type(g.nodes[3])(3, g.nodes[3].kind, "tanh")
    x = np.array([[0.5, 0.0], [-1.0, 0.0]])
    y = np.zeros(2)
    for _ in range(3):
        y = np.tanh(0.9 * y + x[:, 0])
    np.testing.assert_allclose(compile_genome(g, recurrent=True, steps=3)(x)[:, 0], y, rtol=1e-12)
    with pytest.raises(InvalidValueError, match="cycle"):
        compile_genome(g)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_vectorised_equals_row_by_row(seed):
    rng = np.random.default_rng(seed)
    cfg = NeatConfig(n_inputs=3, n_outputs=2, activations=("sigmoid", "tanh", "sin", "gauss", "abs", "relu"))
    g = random_genome(cfg, rng, rounds=8)
    for recurrent in (False, True):
        net = compile_genome(g, recurrent=recurrent)
        x = rng.normal(size=(17, 3))
        rows = np.vstack([net(row) for row in x])
        np.testing.assert_allclose(net(x), rows, rtol=1e-12, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_small_batches_node_by_node_equal_the_layer_path(seed):
    # batches of at most SMALL_BATCH rows take the plain-Python path; 17 rows take the NumPy layers
    rng = np.random.default_rng(seed)
    cfg = NeatConfig(n_inputs=3, n_outputs=2,
                     activations=("sigmoid", "tanh", "sin", "gauss", "abs", "relu", "identity", "step"))
    g = random_genome(cfg, rng, rounds=8)
    net = compile_genome(g, sigmoid_slope=float(rng.uniform(1, 6)))
    x = rng.normal(scale=3.0, size=(17, 3))
    assert SMALL_BATCH < 17
    layered = net(x)
    np.testing.assert_allclose(net(x[:SMALL_BATCH]), layered[:SMALL_BATCH], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(net(x[:1]), layered[:1], rtol=1e-12, atol=1e-12)


def test_activations():
    x = np.array([-2.0, 0.0, 0.5])
    np.testing.assert_allclose(activation_function("sigmoid")(x), sig(x))
    np.testing.assert_allclose(activation_function("gauss")(x), np.exp(-x * x))
    np.testing.assert_allclose(activation_function("step")(x), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(activation_function("relu")(x), [0.0, 0.0, 0.5])
    with pytest.raises(InvalidValueError, match="'name' parameter of activation_function"):
        activation_function("softmax")


def test_wrong_input_shape_is_refused():
    g = build([(0, 0, 3, 1.0)], hidden=())
    with pytest.raises(InvalidValueError, match=r"shape \(n_queries, 2\)"):
        compile_genome(g)(np.zeros((4, 3)))
