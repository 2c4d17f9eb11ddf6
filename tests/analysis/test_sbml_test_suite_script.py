"""analysis/sbml_test_suite.py: a native crash or a hang costs one run, not the job; the JSON line."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sbml_suite

SCRIPT = Path(__file__).resolve().parents[2] / "analysis" / "sbml_test_suite.py"


def _run(*args: str) -> dict:
    proc = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=True,
                          timeout=600)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _crashing_case(root: Path) -> Path:
    """A case whose model segfaults libRoadRunner 2.10: MathML nested 100,000 deep (measured)."""
    case = root / "99999"
    case.mkdir(parents=True)
    depth = 100_000
    math = "<apply><minus/>" * depth + "<cn>1</cn>" + "</apply>" * depth
    (case / "99999-sbml-l3v2.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"><model id="deep">'
        '<listOfParameters><parameter id="p" value="1" constant="false"/></listOfParameters>'
        '<listOfRules><rateRule variable="p"><math xmlns="http://www.w3.org/1998/Math/MathML">'
        f"{math}</math></rateRule></listOfRules></model></sbml>"
    )
    (case / "99999-settings.txt").write_text(
        "start: 0\nduration: 1\nsteps: 1\nvariables: p\nabsolute: 1e-6\nrelative: 1e-6\namount:\nconcentration:\n"
    )
    (case / "99999-results.csv").write_text("time,p\n0,1\n1,0\n")
    (case / "99999-model.m").write_text("componentTags: Parameter, RateRule\ntestTags: NonConstantParameter\n"
                                        "testType: TimeCourse\n")
    return case


@pytest.mark.slow
def test_crash_and_timeout_become_results_and_the_run_goes_on(tmp_path):
    semantic = tmp_path / "suite" / "cases" / "semantic"
    _crashing_case(semantic)
    shutil.copytree(sbml_suite.VENDORED / "00001", semantic / "00001")
    entry = json.loads((sbml_suite.VENDORED / "index.json").read_text())["cases"]["00001"]
    (semantic / "index.json").write_text(json.dumps({"cases": {"00001": entry}}))
    headline = _run("--suite", str(tmp_path / "suite"), "--out", str(tmp_path / "out"), "--workers", "1")
    rows = {r["case"]: r for r in csv.DictReader((tmp_path / "out" / "cases.csv").open())}
    assert rows["99999"]["original"] == "crash" and "died" in rows["99999"]["original_reason"]
    assert [rows["00001"][s] for s in ("original", "export", "edited", "engine")] == ["pass"] * 4
    assert headline["crashes"] >= 1 and headline["roadrunner_original_pass"] == 1
    # Runs that take longer than the timeout are stopped and reported; the job still ends.
    headline = _run("--suite", str(tmp_path / "suite"), "--out", str(tmp_path / "out2"), "--cases", "1",
                    "--timeout", "0.01")
    assert headline["timeouts"] == 4 and headline["cases"] == 1


@pytest.mark.slow
def test_script_on_a_few_cases_prints_the_headline(tmp_path):
    # The vendored subset has the suite's layout. 00059: a local parameter shadowing a species
    # (refused before issue 19); 01165: comp with an external model file; 01188: flux balance.
    out = tmp_path / "out"
    headline = _run("--suite", str(sbml_suite.VENDORED.parent.parent), "--out", str(out),
                    "--cases", "1,59,1165,1188", "--workers", "2")
    assert headline["cases"] == 4
    assert headline["roadrunner_original_pass"] == headline["export_pass"] == headline["edited_export_pass"] == 3
    assert headline["engine_pass"] == 3
    assert headline["lost"] == headline["refused"] == headline["engine_silent_mismatch"] == 0
    assert headline["not_time_course"] == 1
    assert "| comp:ExternalModelDefinition | 1 | 1 | 1 | 1 | 1 |" in (out / "tags.md").read_text()
