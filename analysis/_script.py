"""What the analysis scripts share: the command line, CSV and figure output."""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from epl_sysbio import files


def start_run(
    description: str, argv: list[str] | None, full: dict, quick: dict
) -> tuple[argparse.Namespace, dict, np.random.Generator]:
    """Parse ``--out DIR`` (created), ``--quick`` and ``--seed`` (default 0).

    Returns the arguments, the configuration (``quick`` or ``full``) and the
    one random generator of the run, seeded by ``--seed``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--quick", action="store_true", help="small fast smoke run")
    parser.add_argument("--seed", type=int, default=0, help="seed of numpy.random.default_rng")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    return args, (quick if args.quick else full), np.random.default_rng(args.seed)


def write_csv(path: Path, header: list[str], rows: Iterable[Iterable[object]]) -> None:
    """Write a CSV file atomically (a killed script leaves the old file or the whole new one)."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    files.atomic_write_text(path, text.getvalue())


def save_figure(fig, path: Path, dpi: int = 110) -> None:
    """Tight layout, write ``path`` (PNG), close the figure."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    files.save_figure(fig, path, dpi=dpi)
    plt.close(fig)
