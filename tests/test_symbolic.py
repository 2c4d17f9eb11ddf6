"""The SBML-math differentiator: its formula text, evaluated by libRoadRunner, against
central differences of the expression itself."""

from __future__ import annotations

import libsbml
import pytest
import roadrunner

from epl_sysbio.simulate.symbolic import Differentiator
from epl_sysbio.errors import UnsupportedModelError

EXPRESSIONS = [
    "x*y*z/(K + x)",
    "x^n/(K^n + x^n)",  # Hill: symbolic exponent, derivative in x and n
    "y^x",
    "exp(-a*x)*ln(x) + log(2, x*y) + log10(x)",
    "sqrt(x*y) + root(3, x)",
    "abs(x - y) + tanh(x) * sin(y) + cos(x) + arctan(x*y)",
    "piecewise(x^2, x > y, y*x, x < 0.5, 3*x)",
    "ln(max(x, 1e-300)) * max(x*y, y, 0.1) - min(x, y^2)",  # the EPL Hamiltonian flow's logarithm
    "-x + w*2",  # w is an assignment-rule variable: w = x*y
]
POINT = {"x": 1.3, "y": 0.7, "z": 2.0, "K": 0.9, "n": 2.5, "a": 0.4}


def _runner(expr: str, variable: str) -> roadrunner.RoadRunner:
    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    m.setId("m")
    rules = {"w": libsbml.parseL3Formula("x*y")}
    for pid, value in {**POINT, "w": 0.0, "f": 0.0, "df": 0.0}.items():
        p = m.createParameter()
        p.setId(pid)
        p.setValue(value)
        p.setConstant(pid not in ("w", "f", "df"))
    text = Differentiator(rules, "m").derivative(libsbml.parseL3Formula(expr), variable, "test")
    for pid, formula in (("w", "x*y"), ("f", expr), ("df", text or "0")):
        rule = m.createAssignmentRule()
        rule.setVariable(pid)
        rule.setMath(libsbml.parseL3FormulaWithModel(formula, m))
    return roadrunner.RoadRunner(libsbml.writeSBMLToString(doc))


@pytest.mark.parametrize("expr", EXPRESSIONS)
@pytest.mark.parametrize("variable", ["x", "y", "n"])
def test_derivative_matches_central_differences(expr, variable):
    rr = _runner(expr, variable)
    h = 1e-6 * POINT[variable]
    base = POINT[variable]
    rr[variable] = base + h
    up = rr["f"]
    rr[variable] = base - h
    down = rr["f"]
    rr[variable] = base
    fd = (up - down) / (2 * h)
    assert rr["df"] == pytest.approx(fd, rel=1e-7, abs=1e-8)


def test_identically_zero_derivative_is_none():
    diff = Differentiator({}, "m")
    assert diff.derivative(libsbml.parseL3Formula("k*S"), "P", "J") is None


def test_unsupported_function_names_the_reaction_and_variable():
    diff = Differentiator({}, "m")
    with pytest.raises(UnsupportedModelError, match=r"'floor\(x\)' in 'J7' with respect to 'x'"):
        diff.derivative(libsbml.parseL3Formula("k*floor(x)"), "x", "J7")
