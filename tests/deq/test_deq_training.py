"""train_params: gradient descent on a molecular network's parameters (the DEQ baseline)."""

from __future__ import annotations

import numpy as np
import pytest

from deq_helpers import SBML_MODELS

from epl_sysbio.deq import EquilibriumLayer, TrainingOptions, train_params
from epl_sysbio.errors import InvalidValueError
from epl_sysbio.model import Model

TRUE = {"kcat_kin": 1.0, "Km_kin": 0.05, "V_pase": 1.0, "Km_pase": 0.05}


def _layer():
    model = Model.from_antimony_file(SBML_MODELS / "phosphorylation_cycle_neuron.ant")
    return EquilibriumLayer(model, inputs=["u"], outputs=["[Xp]"], params=["Km_kin", "Km_pase"])


def _data(layer):
    x = np.linspace(0.2, 2.5, 12)[:, None]
    return x, layer.forward(x).require_ok().values  # targets at the model's own Km values


def test_recovers_the_michaelis_constants_from_steady_state_data():
    layer = _layer()
    x, targets = _data(layer)
    layer.set_params([0.3, 0.01])
    result = train_params(layer, x, targets, TrainingOptions(steps=150, learning_rate=0.1))
    assert result.failed.sum() == 0
    assert result.loss[-1] < 1e-4 * result.loss[0]
    np.testing.assert_allclose(result.params, [TRUE["Km_kin"], TRUE["Km_pase"]], rtol=2e-2)
    np.testing.assert_array_equal(layer.params, result.params)
    assert result.history.shape == (151, 2)


def test_seeded_minibatch_runs_are_reproducible():
    runs = []
    for _ in range(2):
        layer = _layer()
        x, targets = _data(layer)
        layer.set_params([0.2, 0.02])
        runs.append(train_params(layer, x, targets, TrainingOptions(steps=20, batch_size=4, seed=3)))
    np.testing.assert_array_equal(runs[0].loss, runs[1].loss)
    np.testing.assert_array_equal(runs[0].params, runs[1].params)


def test_bad_options_and_targets():
    with pytest.raises(InvalidValueError, match="'learning_rate' parameter of TrainingOptions"):
        TrainingOptions(learning_rate=-1.0)
    layer = _layer()
    with pytest.raises(InvalidValueError, match=r"targets must have shape \(3, 1\)"):
        train_params(layer, np.ones((3, 1)), np.ones((3, 2)))
