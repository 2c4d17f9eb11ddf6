"""The documentation stands on its own: the API reference builds from the docstrings without a
warning, and no page points outside the repository."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_api_reference_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    source = tmp_path / "api"
    shutil.copytree(ROOT / "docs" / "api", source, ignore=shutil.ignore_patterns("generated", "_build"))
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-j", "2", "-b", "html",
                           str(source), str(tmp_path / "html")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    pages = {p.name for p in (tmp_path / "html" / "generated").glob("*.html")}
    for module in ("epl_sysbio.simulate.engine", "epl_sysbio.model.omex", "epl_sysbio.simulate.sedml",
                   "epl_sysbio.models", "epl_sysbio.deq.torch_layer", "epl_sysbio.dynamics.diagram"):
        assert f"{module}.html" in pages, module
    engine = (tmp_path / "html" / "generated" / "epl_sysbio.simulate.engine.html").read_text(encoding="utf-8")
    assert "steady_state" in engine and "Parameters" in engine


def test_no_documentation_points_outside_the_repository():
    files = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "epl_sysbio").rglob("*.py"),
             *(ROOT / "epl_sysbio" / "models").glob("*"), *(ROOT / "analysis").glob("*.py"),
             *(ROOT / "benchmarks").glob("*.py")]
    outside = re.compile(r"\.\./shared|/work/|shared/DESIGN|shared/biomodels")
    offenders = [f"{f.relative_to(ROOT)}:{i}" for f in files if f.is_file()
                 for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if outside.search(line)]
    assert offenders == []
    for link in re.findall(r"\]\(([^)#]+)\)", (ROOT / "README.md").read_text(encoding="utf-8")):
        if not link.startswith("http"):
            assert (ROOT / link).exists(), link
