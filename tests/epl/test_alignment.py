"""Eq. 4: the equilibrium layer's implicit loss gradient against central finite differences of steady states."""

from __future__ import annotations

import numpy as np
import pytest

from epl_sysbio.dynamics import random_spec
from epl_sysbio.epl.alignment import alignment_score, equilibrium_layer, loss_gradient, probe_alignment
from epl_sysbio.epl.config import TaskConfig
from epl_sysbio.epl.learner import EplLearner, LearnerOptions
from epl_sysbio.epl.substrate import assign_roles, task_for
from epl_sysbio.simulate import Engine


def _fd_loss_gradient(learner: EplLearner, x: np.ndarray, loss, rel_step: float = 1e-6) -> np.ndarray:
    """Central finite differences of ``loss(outputs)`` over Newton steady states of the learner's own engine."""
    eng = learner.engine
    ids = [s for s in eng.floating_ids if s not in learner.signed]
    eng.set_start()
    z0 = eng.amounts()
    grad = np.zeros(len(ids))

    def loss_after(sid: str, step: float) -> float:
        eng.reset()
        eng.inject({sid: step})
        eng.inject({s: float(v) for s, v in zip(learner.inputs, x) if v > 0})
        result = eng.steady_state(options=learner.options.steady_state_options)
        assert result.converged, result.message
        return loss(eng.get_values([f"[{s}]" for s in learner.outputs]))

    for k, sid in enumerate(ids):
        h = rel_step * max(1.0, abs(z0[sid]))
        down = min(h, z0[sid])
        grad[k] = (loss_after(sid, h) - loss_after(sid, -down)) / (h + down)
    eng.reset()
    return grad


@pytest.fixture(scope="module")
def xor_learner():
    task = task_for(TaskConfig(name="xor"))
    spec = random_spec(np.random.default_rng(3), n_nodes=8, edge_probability=0.9, reservoir_probability=0.3)
    network = assign_roles(spec, task.n_inputs, task.n_outputs, task.n_feedback)
    assert not isinstance(network, str), network
    model = network.model
    engine = Engine(model)
    signed = tuple(n.momentum_id for n in network.spec.nodes if n.momentum_id in engine.floating_ids)
    learner = EplLearner(engine, network.inputs, network.outputs, network.feedback, LearnerOptions(), signed=signed)
    assert learner.initialise() == "ok", learner.message
    return learner, model, task


def test_implicit_loss_gradient_matches_finite_differences(xor_learner):
    learner, model, task = xor_learner
    assert learner.signed, "the network should carry momenta (they keep the model's totals in the layer)"
    layer = equilibrium_layer(learner, model)
    x, y = np.array([1.0, 0.0]) * task.config.input_scale, 1.0

    def loss(o):
        return 0.5 * (task.predict(o) - y) ** 2

    def loss_grad(o):
        total = o[0] + o[1]
        return (task.predict(o) - y) * np.array([-o[1], o[0]]) / total**2

    implicit = loss_gradient(layer, learner, x, loss_grad)
    assert implicit.gradient is not None, implicit.reason
    assert set(implicit.ids).isdisjoint(learner.signed)
    fd = _fd_loss_gradient(learner, x, loss)
    fd_by_id = dict(zip([s for s in learner.engine.floating_ids if s not in learner.signed], fd))
    fd = np.array([fd_by_id[s] for s in implicit.ids])
    scale = np.abs(fd).max()
    assert scale > 1e-6
    np.testing.assert_allclose(implicit.gradient, fd, rtol=1e-5, atol=1e-5 * scale)


def test_probe_alignment_is_a_cosine_and_reproducible(xor_learner):
    learner, model, task = xor_learner
    layer = equilibrium_layer(learner, model)
    learner.engine.set_start()
    start = np.array(list(learner.engine.amounts().values()))  # floating_ids order; momenta may be -1e-17
    scores = []
    for _ in range(2):
        learner.engine.write_amounts(start)
        learner.engine.set_start()
        scores.append(probe_alignment(learner, task, 0, layer))
    assert scores[0] is not None and -1.0 <= scores[0] <= 1.0
    assert scores[0] == pytest.approx(scores[1], abs=1e-9)


def test_alignment_score_of_zero_or_opposite_vectors():
    assert alignment_score(np.zeros(3), np.ones(3)) is None
    assert alignment_score(np.array([1.0, 2.0]), np.array([-1.0, -2.0])) == pytest.approx(1.0)
