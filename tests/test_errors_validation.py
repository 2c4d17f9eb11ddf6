"""The parameter validator of epl_sysbio.errors: constraints test values, describe themselves, and every
refusal goes through the one message template."""

import math
from numbers import Integral, Real

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from epl_sysbio.cli import main
from epl_sysbio.deq.training import TrainingOptions
from epl_sysbio.epl.expression import EplSubstrateConfig
from epl_sysbio.epl.fitness import FitnessWeights
from epl_sysbio.errors import (
    ConfigError,
    InstanceOf,
    Interval,
    InvalidValueError,
    ListOf,
    Options,
    invalid_parameter_message,
    validate,
    validate_fields,
)
from epl_sysbio.evolve.config import NeatConfig, load_config
from epl_sysbio.evolve.hyperneat import HyperNeatConfig


@pytest.mark.parametrize("constraint, text", [
    (Interval(Real, 0, None, closed="neither"), "a float in (0, inf)"),
    (Interval(Real, 0, None, closed="left"), "a float in [0, inf)"),
    (Interval(Real, 0, None, closed="right"), "a float in (0, inf]"),
    (Interval(Real, 0, 1, closed="both"), "a float in [0, 1]"),
    (Interval(Real, 0, 0.1, closed="neither"), "a float in (0, 0.1)"),
    (Interval((int, float), None, None, closed="neither"), "a finite float"),
    (Interval(int, 1, None, closed="left"), "an int >= 1"),
    (Interval(Integral, 0, None, closed="neither"), "an int > 0"),
    (Interval(int, 2, 100_000, closed="both"), "an int in [2, 100,000]"),
    (Options("reset", "warm"), "one of ['reset', 'warm']"),
    (InstanceOf(bool), "a bool"),
    (InstanceOf(int), "an int"),
    (ListOf(Options("a", "b"), nonempty=True), "a non-empty list, each item one of ['a', 'b']"),
    (ListOf(Interval(Real, 0, None, closed="neither")), "a list, each item a float in (0, inf)"),
])
def test_constraint_describes_itself(constraint, text):
    assert str(constraint) == text


@pytest.mark.parametrize("constraint, inside, outside", [
    # open and closed ends; infinity only where its side is unbounded and closed
    (Interval(Real, 0, None, closed="neither"), [1e-300, 1, 2.5, np.float32(0.5), np.int64(3)],
     [0, -1.0, math.inf, math.nan, True, np.bool_(True), "1", None]),
    (Interval(Real, 0, None, closed="right"), [0.5, math.inf], [0.0, math.nan, -math.inf]),
    (Interval(Real, 0, 1, closed="left"), [0, 0.0, 0.999], [1, 1.0, -0.1]),
    (Interval(Real, 0, 1, closed="right"), [1, 1e-9], [0, 1.0001]),
    (Interval(Real, None, None, closed="neither"), [-1e300, 0, 1e300], [math.inf, -math.inf, math.nan]),
    # the Python numbers a TOML file writes back, and no NumPy scalars
    (Interval((int, float), 0, None, closed="left"), [0, 0.0, 3], [np.float32(0.5), np.int64(1), False]),
    # bool is not an int; an int type refuses floats, even whole ones
    (Interval(int, 1, None, closed="left"), [1, 2**70], [0, True, 1.0, np.int64(2)]),
    (Interval(Integral, 0, None, closed="left"), [0, np.int64(2)], [False, 0.0, -1]),
    (Options("reset", "warm"), ["reset", np.str_("warm")], ["Reset", None, ["reset"], np.array(["reset"])]),
    (InstanceOf(bool), [True, False], [0, 1, np.bool_(True), "true"]),
    (ListOf(Options("a", "b"), nonempty=True), [("a",), ["b", "a"]], [(), "a", ("a", "c"), None]),
    (ListOf(Interval(Real, 0, None, closed="neither")), [(), (1.0, 2)], [(0.0,), (math.inf,), 1.0]),
])
def test_constraint_accepts_and_refuses(constraint, inside, outside):
    for value in inside:
        assert value in constraint, value
    for value in outside:
        assert value not in constraint, value


@given(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["left", "right", "both", "neither"]))
def test_interval_agrees_with_its_own_text(x, closed):
    """The rendered interval, read as maths, is exactly the set accepted."""
    interval = Interval(Real, -1.0, None, closed=closed)
    low_ok = x >= -1.0 if closed in ("left", "both") else x > -1.0
    high_ok = x <= math.inf if closed in ("right", "both") else x < math.inf
    assert (x in interval) == (not math.isnan(x) and low_ok and high_ok)


def test_validate_raises_the_one_template_for_the_first_bad_value():
    table = {"rtol": Interval(Real, 0, None, closed="neither"), "start": Options("reset", "warm")}
    with pytest.raises(InvalidValueError) as info:
        validate("SteadyStateOptions", table, {"rtol": -1.0, "start": "nope"})
    assert str(info.value) == invalid_parameter_message("SteadyStateOptions", "rtol", "a float in (0, inf)", -1.0)
    assert str(info.value) == ("The 'rtol' parameter of SteadyStateOptions must be a float in (0, inf). "
                               "Got -1.0 instead.")
    validate("SteadyStateOptions", table, {"rtol": 1e-6, "start": "warm"})  # no error


def test_a_list_of_constraints_allows_any_and_none_allows_none():
    table = {"batch_size": [None, Interval(int, 1, None, closed="left")]}
    for ok in (None, 1, 64):
        validate("TrainingOptions", table, {"batch_size": ok})
    with pytest.raises(InvalidValueError, match=r"^The 'batch_size' parameter of TrainingOptions must be None or an "
                                                r"int >= 1\. Got 0 instead\.$"):
        validate("TrainingOptions", table, {"batch_size": 0})
    three = [Options("a"), InstanceOf(bool), None]
    with pytest.raises(InvalidValueError, match=r"must be one of \['a'\], a bool or None\. Got 1 instead"):
        validate("f", {"x": three}, {"x": 1})


def test_validate_fields_names_the_class_and_uses_the_callers_error():
    class Options_:
        step = 0.0

    with pytest.raises(ConfigError, match=r"^The 'step' parameter of Options_ must be a float in \(0, inf\)\. "
                                          r"Got 0\.0 instead\.$"):
        validate_fields(Options_(), {"step": Interval(Real, 0, None, closed="neither")}, error=ConfigError)


@pytest.mark.parametrize("cls, values", [
    (EplSubstrateConfig, {"n_genes": True}),
    (EplSubstrateConfig, {"rate_scale": math.inf}),
    (TrainingOptions, {"learning_rate": math.inf}),
    (HyperNeatConfig, {"weight_output": 0.5}),
    (FitnessWeights, {"size_weight": True}),
])
def test_options_refuse_what_their_message_excludes(cls, values):
    """A bool is not a number and inf is not in (0, inf): the table's constraint is the whole rule."""
    [name] = values
    with pytest.raises(ValueError, match=f"^The '{name}' parameter of {cls.__name__} must be "):
        cls(**values)


def test_one_message_from_python_toml_and_cli(tmp_path, capsys):
    with pytest.raises(ConfigError) as from_python:
        NeatConfig(c3=-1.0)
    path = tmp_path / "config.toml"
    path.write_text("[neat]\nc3 = -1.0\n")
    with pytest.raises(ConfigError) as from_toml:
        load_config(path)
    assert str(from_toml.value) == str(from_python.value)
    assert str(from_python.value) == "The 'c3' parameter of NeatConfig must be a float in [0, inf). Got -1.0 instead."

    with pytest.raises(SystemExit):
        main(["steady", "model.ant", "--timeout", "-1"])
    assert "argument --timeout: must be a float in (0, inf]. Got '-1' instead." in capsys.readouterr().err
