"""What the analysis scripts share: the command line and CSV output."""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterable
from pathlib import Path


def parse_args(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    """``--out DIR`` (created), ``--quick`` and ``--seed`` (default 0)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--quick", action="store_true", help="small fast smoke run")
    parser.add_argument("--seed", type=int, default=0, help="seed of numpy.random.default_rng")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def write_csv(path: Path, header: list[str], rows: Iterable[Iterable[object]]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
