"""Generated models in COPASI: they load, and COPASI's steady state is the engine's."""

from __future__ import annotations

import numpy as np
import pytest
from copasi_reference import copasi_steady_state
from rds_fixtures import spec  # noqa: F401 (fixtures)

from epl_sysbio.dynamics import random_spec, spec_to_model
from epl_sysbio.simulate import Engine

pytest.importorskip("COPASI")


@pytest.mark.parametrize("seed", [None, 0, 4, 5])
def test_copasi_loads_generated_models_and_agrees_on_the_steady_state(spec, seed):
    if seed is not None:
        spec = random_spec(np.random.default_rng(seed), n_nodes=20, edge_probability=0.7, reservoir_probability=0.2)
    sbml = spec_to_model(spec).to_sbml()
    ours = Engine(sbml).steady_state()
    assert ours.status.value == "stable", ours.message
    # Momenta are 0 at the steady state, within rounding of either sign: COPASI must accept negative
    # values, and its resolution 1e-9 (a test relative to each value) never passes on values ~1e-17;
    # at resolution 1e-6 it converges, to about 1e-6 relative.
    theirs = copasi_steady_state(sbml, mca=False, accept_negative=True, resolution=1e-6)
    assert theirs.status in ("found", "found equilibrium"), theirs.message
    assert theirs.stability == "stable"
    for sid, value in ours.values.items():
        assert theirs.concentrations[sid] == pytest.approx(value, rel=1e-5, abs=1e-6), sid
