"""Cases of the SBML Test Suite (semantic), for tests and analysis/sbml_test_suite.py.

This is a test helper, not package code. One case of the suite
(sbmlteam/sbml-test-suite, cases/semantic/NNNNN/) holds the same model at
several SBML levels and versions, ``NNNNN-settings.txt`` (the time grid, the
variables to report, which species are reported as amounts and which as
concentrations, and the absolute and relative tolerances), the expected
results ``NNNNN-results.csv``, and ``NNNNN-model.m`` whose header lists the
case's component tags, test tags and test type.

A simulated value ``y`` matches the expected ``e`` when

    |y - e| <= absolute + relative * |e|

at every time point and for every variable (the suite's own rule); NaN
matches NaN and an infinity matches the same infinity. libRoadRunner
integrates with relative and absolute tolerances 1e-10 and 1e-14, so that the
case's tolerances judge the model and not the integrator.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Level/version files in the order a case is tried: the newest first.
LEVEL_VERSIONS = ("l3v2", "l3v1", "l2v5", "l2v4", "l2v3", "l2v2", "l2v1", "l1v2")

INTEGRATOR_RTOL = 1e-10
INTEGRATOR_ATOL = 1e-14

#: The semantic cases of the vendored subset (tests/data/sbml_test_suite): NNNNN/ and index.json.
VENDORED = Path(__file__).parent / "data" / "sbml_test_suite" / "cases" / "semantic"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """``NNNNN-settings.txt``: the time grid, the variables and the tolerances."""

    start: float
    duration: float
    steps: int
    variables: tuple[str, ...]
    absolute: float
    relative: float
    amount: frozenset[str]
    concentration: frozenset[str]


@dataclass(frozen=True, kw_only=True)
class Case:
    """One semantic case: its directory, id, tags, test type and SBML file."""

    directory: Path
    case_id: str
    component_tags: tuple[str, ...]
    test_tags: tuple[str, ...]
    test_type: str

    @property
    def tags(self) -> tuple[str, ...]:
        return self.component_tags + self.test_tags

    @property
    def is_time_course(self) -> bool:
        return self.test_type == "TimeCourse"

    def sbml_path(self) -> Path:
        """The case's newest SBML file (Level 3 Version 2 where the case has one)."""
        for lv in LEVEL_VERSIONS:
            path = self.directory / f"{self.case_id}-sbml-{lv}.xml"
            if path.exists():
                return path
        raise FileNotFoundError(f"case {self.case_id}: no NNNNN-sbml-lXvY.xml file in {self.directory}")

    def settings(self) -> Settings:
        return read_settings(self.directory / f"{self.case_id}-settings.txt")

    def expected(self) -> tuple[tuple[str, ...], np.ndarray]:
        """Column names (time first) and the expected results, shape (steps + 1, 1 + n_variables)."""
        return read_results(self.directory / f"{self.case_id}-results.csv")


def _list(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def read_settings(path: Path) -> Settings:
    fields: dict[str, str] = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip()
    return Settings(
        start=float(fields.get("start") or 0.0),
        duration=float(fields.get("duration") or 0.0),
        steps=int(float(fields.get("steps") or 0)),
        variables=_list(fields.get("variables", "")),
        absolute=float(fields["absolute"]),
        relative=float(fields["relative"]),
        amount=frozenset(_list(fields.get("amount", ""))),
        concentration=frozenset(_list(fields.get("concentration", ""))),
    )


def read_results(path: Path) -> tuple[tuple[str, ...], np.ndarray]:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    header = tuple(h.strip() for h in lines[0].split(","))
    rows = [[float(v) for v in line.split(",")] for line in lines[1:]]
    return header, np.array(rows, dtype=float)


_TAG_LINE = re.compile(r"^\s*(componentTags|testTags|testType)\s*:\s*(.*)$")


def read_case(directory: Path) -> Case:
    """A case from its directory: tags from ``NNNNN-model.m``, or from ``index.json`` beside it (vendored)."""
    case_id = directory.name
    model_m = directory / f"{case_id}-model.m"
    if model_m.exists():
        found = {"componentTags": "", "testTags": "", "testType": ""}
        for line in model_m.read_text(errors="replace").splitlines()[:40]:
            match = _TAG_LINE.match(line)
            if match:
                found[match.group(1)] = match.group(2)
        component, test, test_type = _list(found["componentTags"]), _list(found["testTags"]), found["testType"].strip()
    else:
        entry = json.loads((directory.parent / "index.json").read_text())["cases"][case_id]
        component, test, test_type = tuple(entry["componentTags"]), tuple(entry["testTags"]), entry["testType"]
    return Case(directory=directory, case_id=case_id, component_tags=component, test_tags=test, test_type=test_type)


def list_cases(semantic: Path) -> list[Case]:
    """Every case directory (five digits) under ``semantic``, in numeric order."""
    return [read_case(d) for d in sorted(semantic.iterdir()) if d.is_dir() and re.fullmatch(r"\d{5}", d.name)]


def selections(settings: Settings, variables: tuple[str, ...], renamed: dict[str, str] | None = None) -> list[str]:
    """libRoadRunner selections, time first: ``S`` an amount (or a parameter, compartment,
    species reference), ``[S]`` a concentration. ``renamed`` maps case ids to ids in the model."""
    renamed = renamed or {}
    out = ["time"]
    for v in variables:
        sid = renamed.get(v, v)
        out.append(f"[{sid}]" if v in settings.concentration else sid)
    return out


@dataclass(frozen=True)
class Comparison:
    """How a trajectory compares with the expected results."""

    ok: bool
    reason: str = ""


def compare(settings: Settings, header: tuple[str, ...], expected: np.ndarray, actual: np.ndarray) -> Comparison:
    """The suite's rule ``|y - e| <= absolute + relative * |e|`` at every point.

    ``actual`` has shape (steps + 1, 1 + n_variables) in ``header`` order (time first).
    """
    if actual.shape != expected.shape:
        return Comparison(False, f"result shape {actual.shape}, expected {expected.shape}")
    both_nan = np.isnan(expected) & np.isnan(actual)
    same_inf = np.isinf(expected) & (expected == actual)
    with np.errstate(invalid="ignore"):
        close = np.abs(actual - expected) <= settings.absolute + settings.relative * np.abs(expected)
    bad = ~(both_nan | same_inf | close)
    if not bad.any():
        return Comparison(True)
    row, col = np.argwhere(bad)[0]
    return Comparison(
        False,
        f"{int(bad.sum())} of {bad.size} values off; first {header[col]} at t = {expected[row, 0]:g}: "
        f"{actual[row, col]:.6g}, expected {expected[row, col]:.6g}",
    )


def tighten(rr) -> None:
    """The integrator tolerances of every suite run (module docstring)."""
    rr.integrator.setValue("relative_tolerance", INTEGRATOR_RTOL)
    rr.integrator.setValue("absolute_tolerance", INTEGRATOR_ATOL)


def simulate_roadrunner(sbml: str | Path, case: Case, renamed: dict[str, str] | None = None) -> np.ndarray:
    """libRoadRunner's time course of the case's variables on the case's grid, time first.

    ``sbml`` is SBML text or a file path (a path lets libRoadRunner resolve the
    external model definitions of hierarchical models next to the file).
    """
    import roadrunner

    settings = case.settings()
    header, _ = case.expected()
    rr = roadrunner.RoadRunner(str(sbml))
    tighten(rr)
    sel = selections(settings, header[1:], renamed)
    return np.asarray(rr.simulate(settings.start, settings.start + settings.duration, settings.steps + 1, sel))


def check(case: Case, actual: np.ndarray) -> Comparison:
    settings = case.settings()
    header, expected = case.expected()
    return compare(settings, header, expected, actual)


def harmless_edit(model, variables: tuple[str, ...]) -> dict[str, str]:
    """Rename one species and set one parameter to its own value; return ``{old id: new id}``.

    The species renamed is the first one the case reports (so the rename is
    seen in the results), else the model's first species; the parameter is the
    first global parameter with a finite value of its own (not set by a rule
    or an initial assignment).
    """
    renamed: dict[str, str] = {}
    species = [s for s in model.species_ids if s in variables] or model.species_ids
    if species:
        old = species[0]
        new, n = f"{old}_renamed", 1
        while model.has_id(new):
            n += 1
            new = f"{old}_renamed{n}"
        model.rename(old, new)
        renamed[old] = new
    m = model.sbml_model
    for p in m.getListOfParameters():
        pid = p.getId()
        free = m.getInitialAssignmentBySymbol(pid) is None and m.getRule(pid) is None
        if p.isSetValue() and math.isfinite(p.getValue()) and free:
            model.set_value(pid, model.get_value(pid))
            break
    return renamed
