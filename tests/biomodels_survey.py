"""Survey: COPASI against libRoadRunner on every model in tests/data/biomodels.

Not a test (pytest does not collect it); the script behind the figures in
docs/biomodels_findings.md.  Run from the repository root:

    .venv/bin/python tests/biomodels_survey.py            # all models
    .venv/bin/python tests/biomodels_survey.py 0009 0853  # some

For each model it prints COPASI's status, stability and timings, then the
plain libRoadRunner solve and the recipe that reproduces COPASI, each with the
largest relative difference of the values matched by SBML id (species
concentrations plus rate-rule variables) and the largest absolute one.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from copasi_reference import (  # noqa: E402
    copasi_rate_mismatches,
    copasi_steady_state,
    kinetic_laws_to_assignment_rules,
    max_relative_difference,
    roadrunner_full_state_newton,
    roadrunner_reference,
    species_rules_to_parameters,
)


def _recipe_0009():
    sbml, _ = species_rules_to_parameters("BIOMD0000000009.xml")
    return roadrunner_reference(sbml, {"compartment": 1.0})


# model -> (recipe description, callable returning a RoadRunnerSteadyState)
RECIPES = {
    "0009": (
        "species_rules_to_parameters, then compartment=1 (init), moiety analysis, steadyState",
        _recipe_0009,
    ),
    "0010": ("plain: moiety analysis, steadyState", lambda: roadrunner_reference("BIOMD0000000010.xml")),
    "0020": (
        "full-state Newton on rate rules after simulate(0, 200)",
        lambda: roadrunner_full_state_newton("BIOMD0000000020.xml", timecourse_to=200),
    ),
    "0033": (
        "moiety analysis, presimulation_time=1000, steadyState",
        lambda: roadrunner_reference("BIOMD0000000033.xml", presimulation_time=1000),
    ),
    "0127": (
        "full-state Newton on the rate rules after simulate(0, 5) (before the t > 10 event)",
        lambda: roadrunner_full_state_newton("BIOMD0000000127.xml", timecourse_to=5),
    ),
    "0183": (
        "no moiety analysis, CVODE abs tol 1e-30 / rel 1e-12, simulate(0, 1e4), no Newton",
        lambda: roadrunner_reference(
            "BIOMD0000000183.xml", moiety=False, integrator_absolute_tolerance=1e-30, timecourse_to=1e4, solve=False
        ),
    ),
    "0569": (
        "moiety analysis, synapse=1 (init; concentrations unchanged), simulate(0, 100), steadyState",
        lambda: roadrunner_reference("BIOMD0000000569.xml", {"synapse": 1.0}, timecourse_to=100),
    ),
    "0628": (
        "equilibriumTime parameter_2=1e9 (init; no stimulus train), no moiety analysis, "
        "CVODE abs tol 1e-24 / rel 1e-12, simulate(0, 2000), no Newton",
        lambda: roadrunner_reference(
            "BIOMD0000000628.xml",
            {"parameter_2": 1e9},
            moiety=False,
            integrator_absolute_tolerance=1e-24,
            timecourse_to=2000,
            solve=False,
        ),
    ),
    "0635": ("plain: moiety analysis, steadyState", lambda: roadrunner_reference("BIOMD0000000635.xml")),
    "0853": (
        "tstimdur=-1 (init), moiety analysis, steadyState",
        lambda: roadrunner_reference("BIOMD0000000853.xml", {"tstimdur": -1.0}),
    ),
}


# model -> SBML to give COPASI instead of the file, when its import is wrong.
COPASI_INPUT = {
    "0183": lambda: kinetic_laws_to_assignment_rules(
        "BIOMD0000000183.xml", ["reaction_129", "reaction_130", "reaction_131", "reaction_132"]
    ),
}


def _values(result) -> dict[str, float]:
    return {**result.concentrations, **result.ode_values}


def _compare(reference: dict[str, float], other: dict[str, float]) -> str:
    shared = sorted(set(reference) & set(other))
    if not shared:
        return "nothing to compare"
    relative, where = max_relative_difference(reference, other)
    absolute = max(abs(reference[k] - other[k]) for k in shared)
    return f"max rel diff {relative:.3g} (at {where}), max abs diff {absolute:.3g}, {len(shared)} ids"


def survey(model: str) -> None:
    name = f"BIOMD000000{model}.xml"
    print(f"## {model}")
    mismatches = copasi_rate_mismatches(name)
    print(f"reaction rates COPASI != libRoadRunner at a random state: {sorted(mismatches) or 'none'}")
    copasi = copasi_steady_state(name, mca=True)
    if model in COPASI_INPUT:
        raw = copasi
        copasi = copasi_steady_state(COPASI_INPUT[model](), mca=True)
        print(f"COPASI on the file as is: {raw.status}, max Re(eig) {raw.max_real_eigenvalue:.6g}; "
              f"vs COPASI on the rewritten file: {_compare(_values(copasi), _values(raw))}")
        print("COPASI below is on the rewritten file (kinetic_laws_to_assignment_rules)")
    print(
        f"COPASI: {copasi.status}, {copasi.stability}, max Re(eig) {copasi.max_real_eigenvalue:.6g}; "
        f"steady state {copasi.seconds_steady_state:.3f} s, MCA {copasi.seconds_mca:.3f} s "
        f"({'no CCs' if copasi.scaled_cc is None else f'{len(copasi.scaled_cc)} CCs'})"
    )
    if copasi.message:
        print("  COPASI says: " + copasi.message.replace("\n", " | ")[:400])
    start = time.perf_counter()
    plain = roadrunner_reference(name)
    print(
        f"libRoadRunner plain ({time.perf_counter() - start:.2f} s): {plain.status[:160]}, {plain.stability}, "
        f"max Re(eig) {plain.max_real_eigenvalue:.6g}; {_compare(_values(copasi), _values(plain))}"
    )
    description, recipe = RECIPES[model]
    start = time.perf_counter()
    matched = recipe()
    print(
        f"libRoadRunner recipe [{description}] ({time.perf_counter() - start:.2f} s): {matched.status[:160]}, "
        f"{matched.stability}, max Re(eig) {matched.max_real_eigenvalue:.6g}; "
        f"{_compare(_values(copasi), _values(matched))}"
    )
    print(flush=True)


if __name__ == "__main__":
    for model in sys.argv[1:] or sorted(RECIPES):
        survey(model)
