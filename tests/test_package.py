import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_does_not_pull_heavy_libraries():
    """`import epl_sysbio` is cheap: libRoadRunner, libsbml, NumPy, matplotlib, tellurium load on first use."""
    code = ("import sys, epl_sysbio; print(sorted(m for m in ('tellurium', 'matplotlib', 'roadrunner', 'libsbml', "
            "'numpy', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_root_reexports_public_names():
    import epl_sysbio

    for name in epl_sysbio.__all__:
        assert hasattr(epl_sysbio, name), name
    assert epl_sysbio.Engine is __import__("epl_sysbio.simulate", fromlist=["Engine"]).Engine


def _imported_distributions() -> set[str]:
    """Distributions of the third-party modules the package imports anywhere (lazily or not)."""
    modules = set()
    for path in (ROOT / "epl_sysbio").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    third_party = modules - set(sys.stdlib_module_names) - {"epl_sysbio", "__future__"}
    owners = packages_distributions()
    return {d.lower() for m in third_party for d in owners.get(m, [m])}


def test_core_dependencies_are_exactly_what_the_package_imports():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {re.split(r"[<>=!\[ ;]", d)[0].lower() for d in project["dependencies"]}
    imported = _imported_distributions() - {"torch"}  # torch: the optional extra (deq/torch_layer.py)
    assert declared == imported
    extras = project["optional-dependencies"]
    assert {"tellurium", "six", "python-copasi", "copasi-basico"} <= {re.split(r"[<>=!]", d)[0] for d in extras["interop"]}
    assert extras["torch"] == ["torch==2.13.0"]
