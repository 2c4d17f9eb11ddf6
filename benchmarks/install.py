"""What a plain install costs: size on disk, install time, ``import epl_sysbio`` and ``epl-sysbio --help`` times.

Builds the wheel, creates a fresh virtual environment, installs the wheel
with its core dependencies (no extras) the ordinary way (``pip install``,
the package index and pip's cache as configured on the machine), then
measures, from a directory outside the repository:

- ``site_packages_mb``: the environment's site-packages after the install;
- ``install_s``: wall time of that ``pip install``;
- ``import_s``: ``python -c "import epl_sysbio"`` (median of ``--repeat`` runs);
- ``help_s``: ``epl-sysbio --help`` (median);
- ``steady_s``: ``epl-sysbio steady receptor_synapse`` (median; compiles a model).

With ``--extra interop`` it also installs that extra and reports its size.
Ends with one JSON line of the figures. Run with ``nice`` on a shared machine;
absolute times drift with load.

    .venv/bin/python benchmarks/install.py --out runs/install
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _size_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6, 1)


def _timed(argv: list[str], cwd: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(argv, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/install", help="work directory (replaced)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--extra", action="append", default=[], help="also install this extra and measure it")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w",
                    str(out / "dist"), str(ROOT)], check=True)
    (wheel,) = (out / "dist").glob("epl_sysbio-*.whl")
    venv = out / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python, exe = venv / "bin" / "python", venv / "bin" / "epl-sysbio"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    empty_mb = _size_mb(site)
    t0 = time.perf_counter()
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True)
    install_s = round(time.perf_counter() - t0, 1)
    core_mb = round(_size_mb(site) - empty_mb, 1)
    work = out / "elsewhere"
    work.mkdir()
    figures = {
        "core_site_packages_mb": core_mb,
        "core_install_s": install_s,
        "import_s": _timed([str(python), "-c", "import epl_sysbio"], work, args.repeat),
        "import_engine_s": _timed([str(python), "-c", "from epl_sysbio import Engine"], work, args.repeat),
        "help_s": _timed([str(exe), "--help"], work, args.repeat),
        "version_s": _timed([str(exe), "--version"], work, args.repeat),
        "steady_s": _timed([str(exe), "steady", "receptor_synapse"], work, args.repeat),
    }
    for extra in args.extra:
        before = _size_mb(site)
        t0 = time.perf_counter()
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"{wheel}[{extra}]"], check=True)
        figures[f"{extra}_install_s"] = round(time.perf_counter() - t0, 1)
        figures[f"{extra}_extra_mb"] = round(_size_mb(site) - before, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
