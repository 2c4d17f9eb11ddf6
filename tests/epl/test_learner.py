"""The EPL learner (Algorithm 1) on tiny hand-written networks: injections, persistence, Active, stopping."""

from __future__ import annotations

import numpy as np
import pytest

from epl_sysbio.epl.learner import EplLearner, LearnerOptions, active
from epl_sysbio.errors import InvalidValueError
from epl_sysbio.model import Model
from epl_sysbio.simulate import Engine

#: Two conservation laws (A + C + D, B + C + D) and a reservoir-free cycle, in a compartment of volume 2.
CYCLE = """
model cycle
  compartment c = 2
  species A in c, B in c, C in c, D in c, E in c
  J1: A + B -> C; c*(k1*A*B - k2*C)
  J2: C -> D; c*(k3*C - k4*D)
  J3: D -> E; c*(k3*D - k4*E)
  J4: E -> A + B; c*(k5*E - k6*A*B)
  k1 = 1; k2 = 0.5; k3 = 0.3; k4 = 0.1; k5 = 0.2; k6 = 0.05
  A = 2; B = 3; C = 0.1; D = 0.1; E = 0.1
end
"""

#: Inputs u1, u2 drain to a reservoir through reactions that feed outputs y1, y2; f <-> g is a closed pool
#: whose size (set by feedback into f) slows y1's production.
RESERVOIR = """
model reservoir
  compartment c = 1
  species u1 in c, u2 in c, y1 in c, y2 in c, f in c, g in c
  R1: u1 -> y1; k*u1 - k*y1*f
  R2: u2 -> y2; k*u2 - k*y2
  R3: f -> g; k*f - k*g
  D1: y1 -> ; h*(y1 - 0.1)
  D2: y2 -> ; h*(y2 - 0.1)
  k = 1; h = 0.5
  u1 = 0.1; u2 = 0.1; y1 = 0.1; y2 = 0.1; f = 0.2; g = 0.2
end
"""


def learner(text: str, inputs, outputs, feedback, **options) -> EplLearner:
    return EplLearner(Engine(Model.from_antimony(text)), inputs, outputs, feedback, LearnerOptions(**options))


@pytest.mark.parametrize("node", ["A", "B", "C", "D", "E"])
@pytest.mark.parametrize("kind", ["input", "feedback"])
def test_injection_changes_conserved_totals_by_exactly_the_injected_amount(node, kind):
    lrn = learner(CYCLE, [node] if kind == "input" else [], ["C"],
                  [node] if kind == "feedback" else [])
    assert lrn.initialise() == "ok"
    gamma = lrn.engine.conservation_matrix
    assert gamma is not None and gamma.shape[0] == 2
    before = np.array(list(lrn.engine.conserved_totals().values()))
    amounts_before = lrn.engine.amounts()
    if kind == "input":
        lrn.step([0.7])
    else:
        lrn.feed_back([0.7])
    after = np.array(list(lrn.engine.conserved_totals().values()))
    injected = np.zeros(len(lrn.engine.floating_ids))
    injected[lrn.engine.floating_ids.index(node)] = 0.7
    np.testing.assert_allclose(after - before, gamma @ injected, rtol=1e-12, atol=1e-12)
    # the amount of the node itself went up by the injection (before any relaxation moves it on)
    if kind == "feedback":
        assert lrn.engine.amounts() != amounts_before


def test_learned_state_persists_across_steps_and_feedback_moves_it():
    lrn = learner(RESERVOIR, ["u1", "u2"], ["y1", "y2"], ["f"])
    assert lrn.initialise() == "ok"
    z0 = lrn.learned_state()
    r1 = lrn.step([1.0, 0.0])
    assert r1.status == "ok" and r1.trace.shape == (6, 3)
    assert r1.activity[0] > r1.activity[1]  # the injected branch responds
    assert lrn.feed_back([2.0]) == "ok"
    z1 = lrn.learned_state()
    assert z1["f"] + z1["g"] > z0["f"] + z0["g"] + 1.0  # the f-g pool is closed: feedback stays
    # the next response starts from the learned state, not from the initial one
    r2 = lrn.step([1.0, 0.0])
    assert r2.trace[0, 1] == pytest.approx(z1["y1"], rel=1e-6)
    assert lrn.relaxations["initial:newton"] == 1 and lrn.relaxations["learning:newton"] == 1
    assert lrn.steps == 2


def test_feedback_changes_the_next_response():
    """Same input before and after feedback into f: y1's drain through f changes, so Active changes."""
    # tight integration: the comparison below is of the model's logic, not of integration error
    base = learner(RESERVOIR, ["u1", "u2"], ["y1", "y2"], ["f"], integrator_rtol=1e-9, integrator_atol=1e-12)
    fed = learner(RESERVOIR, ["u1", "u2"], ["y1", "y2"], ["f"], integrator_rtol=1e-9, integrator_atol=1e-12)
    for lrn, fb in ((base, 0.0), (fed, 5.0)):
        lrn.initialise()
        lrn.step([1.0, 1.0])
        lrn.feed_back([fb])
    a_base = base.step([1.0, 1.0]).activity
    a_fed = fed.step([1.0, 1.0]).activity
    assert a_fed[0] != pytest.approx(a_base[0], rel=1e-3)
    assert a_fed[1] == pytest.approx(a_base[1], rel=1e-4)  # y2 does not see f (equal up to the settle tolerance)


def test_time_course_settle_reports_model_time_and_agrees_with_newton():
    newton = learner(RESERVOIR, ["u1", "u2"], ["y1", "y2"], ["f"])
    course = learner(RESERVOIR, ["u1", "u2"], ["y1", "y2"], ["f"], settle="time_course", atol=1e-10, rtol=1e-8)
    for lrn in (newton, course):
        lrn.initialise()
        lrn.step([0.5, 0.2])
        lrn.feed_back([1.0])
    assert course.relaxations["learning:converged"] == 1 and course.model_time > newton.model_time
    a, b = newton.learned_state(), course.learned_state()
    for sid in a:
        assert b[sid] == pytest.approx(a[sid], rel=1e-5, abs=1e-8)


def test_active_mean_and_crossings():
    t = np.linspace(0, 2, 201)
    trace = np.column_stack([t, np.full_like(t, 3.0), 1.0 + np.sin(2 * np.pi * t)])
    mean = active(trace, "mean")
    assert mean[0] == pytest.approx(3.0) and mean[1] == pytest.approx(1.0, abs=1e-4)
    crossings = active(trace, "crossings", crossing_level=0.5)
    assert crossings.tolist() == [0.0, 2.0]


def test_a_network_without_equilibrium_stops_with_a_status_not_an_exception():
    text = """
    compartment c = 1
    species A in c, B in c
    J1: -> A; k
    J2: A -> B; k*A
    k = 1; A = 1; B = 0
    """
    lrn = learner(text, ["A"], ["B"], ["B"], settle="time_course", settle_t_max=50.0)
    assert lrn.initialise() == "not_relaxed"
    assert "time cap" in lrn.message
    response = lrn.step([1.0])  # a stopped learner does nothing
    assert response.status == "not_relaxed" and len(response.trace) == 0 and lrn.steps == 0


def test_a_diverging_network_is_stopped_as_diverged():
    text = """
    compartment c = 1
    species A in c, B in c
    J1: A -> 2 A; k*A
    J2: A -> B; 0.01*A - 0.01*B
    k = 3; A = 1; B = 1
    """
    lrn = learner(text, ["B"], ["A"], ["A"], settle="time_course", max_amount=1e4)
    status = lrn.initialise()
    assert status in ("diverged", "failed")
    assert not lrn.ok and lrn.message


def test_bad_nodes_and_injections_are_refused_with_the_ids():
    eng = Engine(Model.from_antimony(RESERVOIR))
    with pytest.raises(InvalidValueError, match=r"'nope'.*'zz'"):
        EplLearner(eng, ["u1", "zz"], ["y1"], ["nope"])
    with pytest.raises(InvalidValueError, match="'u1'"):
        EplLearner(eng, ["u1"], ["y1"], ["u1"])
    lrn = EplLearner(eng, ["u1", "u2"], ["y1"], ["f"])
    with pytest.raises(InvalidValueError, match="expected 2 amounts"):
        lrn.step([1.0])
    with pytest.raises(InvalidValueError, match=">= 0"):
        lrn.step([1.0, -0.5])
    with pytest.raises(InvalidValueError, match="response_points"):
        LearnerOptions(response_points=1)
