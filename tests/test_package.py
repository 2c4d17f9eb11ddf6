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


def _module_imports() -> dict[str, set[str]]:
    """Each module of the package and the package modules it imports, at the top or inside a function
    (imports under ``if TYPE_CHECKING:`` are for annotations only and do not count)."""
    root = Path(__file__).resolve().parent.parent / "epl_sysbio"
    files = {".".join(p.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__"): p
             for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        if path.name == "__init__.py":
            continue  # packages re-export; their modules carry the dependencies
        package = name.rsplit(".", 1)[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                       and "TYPE_CHECKING" in ast.unparse(block.test) for n in ast.walk(block)}
        targets = set()
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                targets |= {module, *(f"{module}.{a.name}" for a in node.names)}
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
        graph[name] = {t for t in targets if t in files and t != name and files[t].name != "__init__.py"}
    return graph


def test_no_module_of_the_package_imports_itself_back_through_others():
    graph = _module_imports()
    assert {"epl_sysbio.epl.plots", "epl_sysbio.epl.summary"} <= graph["epl_sysbio.epl.job"]  # the walk sees imports
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            assert state.get(target) != 1, "import cycle: " + " -> ".join(path[path.index(target):] + [target])
            if target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
