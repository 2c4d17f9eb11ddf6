"""Property: extreme ``--set`` values (0, 1e-300, 1e308, inf, nan, negative) on every bundled model end
within the budget with exit 0, 1 or 2: a status or a message, never a crash, a hang or a traceback."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from epl_sysbio.cli import main
from epl_sysbio.model import load_model

from conftest import SBML_MODELS

MODELS = sorted(SBML_MODELS.glob("*.ant"))
EXTREMES = ["0", "-0", "1e-300", "5e-324", "1e308", "-1e308", "inf", "-inf", "nan", "-1"]
BUDGET = 30.0


def _ids(path) -> list[str]:
    model = load_model(path)
    return sorted(model.parameter_ids + model.compartment_ids + model.floating_species_ids
                  + [f"[{s}]" for s in model.floating_species_ids])


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_extreme_values_end_in_a_status_or_a_message(capfd, path, data):
    ids = data.draw(st.lists(st.sampled_from(_ids(path)), min_size=1, max_size=3, unique=True), label="ids")
    values = data.draw(st.lists(st.sampled_from(EXTREMES), min_size=len(ids), max_size=len(ids)), label="values")
    sets = [arg for sid, value in zip(ids, values) for arg in ("--set", f"{sid}={value}")]
    t0 = time.perf_counter()
    code = main(["steady", str(path), *sets, "--format", "json", "--timeout", str(BUDGET)])
    elapsed = time.perf_counter() - t0
    out, err = capfd.readouterr()
    assert code in (0, 1, 2), err
    assert elapsed < BUDGET + 30  # the budget, plus forking and loading
    assert "Traceback" not in err and "internal error" not in err
    if code == 2:
        assert "error:" in err and out == ""
    elif out:  # a result (an exhausted budget prints none): the whole of stdout is one JSON object
        assert json.loads(out)["status"] in ("stable", "unstable", "marginal", "not_converged", "unsupported")
