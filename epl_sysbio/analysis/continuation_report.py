"""Bifurcation diagrams as pictures and tables: PNG, CSV, and the command line's glue.

* One-parameter diagram (``continuation_<p>.png``): the parameter against the
  species that varies most along the branch (relative to its largest value),
  stable parts solid, unstable parts dashed; folds, Hopf points (with
  super/subcritical) and branch points marked and labelled.
* Two-parameter diagram (``continuation2_<p>_<q>.png``): fold curves (blue)
  and Hopf curves (red) in the (p, q) plane, cusp, Bogdanov-Takens and
  generalised-Hopf points labelled, and the one-parameter line they started
  from (grey, dotted) with its folds and Hopf points.
* CSV (``continuation_<p>.csv``: one row per branch point with its label,
  stability, the largest real part of the eigenvalues and every species
  concentration; ``continuation2_<p>_<q>.csv``: one row per curve point with
  the curve, its kind, both parameters, the Hopf frequency and the label).

Every file is written to a temporary name and renamed into place.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from epl_sysbio.analysis.continuation import ContinuationOptions, promote_local_parameters
from epl_sysbio.analysis.continuation_diagram import (
    ContinuationResult,
    TwoParameterResult,
    continue_equilibria,
    continue_two_parameters,
)
from epl_sysbio.errors import UnknownIdError, format_ids
from epl_sysbio.files import atomic_write
from epl_sysbio.model import Model
from epl_sysbio.simulate import Engine

__all__ = [
    "plot_continuation",
    "plot_two_parameter",
    "prepare_model",
    "run_continuations",
    "write_continuation_csv",
    "write_two_parameter_csv",
]


def _replace(path: Path, data: bytes) -> None:
    atomic_write(path, data)


def _save_png(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    _replace(path, buffer.getvalue())


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _labels(points) -> list[str]:
    count: dict[str, int] = {}
    out = []
    for p in points:
        count[p.kind] = count.get(p.kind, 0) + 1
        out.append(f"{p.kind}{count[p.kind]}")
    return out


def _output_index(result: ContinuationResult, output: str | None) -> int:
    if output is not None:
        return result.species.index(output)
    c = result.concentrations
    spread = (c.max(axis=0) - c.min(axis=0)) / np.maximum(np.abs(c).max(axis=0), 1e-300)
    return int(np.argmax(spread))


def plot_continuation(result: ContinuationResult, path: Path, output: str | None = None) -> Path:
    """The one-parameter bifurcation diagram (module docstring); ``output`` picks the species."""
    plt = _pyplot()
    k = _output_index(result, output)
    x, y = result.parameter_values, result.concentrations[:, k]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    # One line per run of equal stability; consecutive runs share their boundary point.
    start = 0
    drawn = set()
    for i in range(1, len(x) + 1):
        if i == len(x) or result.stable[i] != result.stable[start]:
            stable = bool(result.stable[start])
            label = ("stable" if stable else "unstable") if stable not in drawn else None
            drawn.add(stable)
            ax.plot(x[start:i + 1], y[start:i + 1], "-" if stable else "--", lw=1.6,
                    color="tab:blue" if stable else "tab:red", label=label)
            start = i
    markers = {"LP": ("o", "k"), "H": ("s", "tab:purple"), "BP": ("^", "tab:green")}
    specials = [p for p in result.special_points if p.kind in markers]
    for point, name in zip(specials, _labels(specials)):
        marker, color = markers[point.kind]
        px, py = point.parameters[result.parameter], point.concentrations[k]
        ax.plot(px, py, marker, color=color, ms=6, zorder=5)
        text = name + (f" ({point.criticality[:5]}.)" if point.criticality else "")
        ax.annotate(text, (px, py), xytext=(5, 5), textcoords="offset points", fontsize=8)
    ax.set_xlabel(result.parameter)
    ax.set_ylabel(f"[{result.species[k]}]")
    ax.set_title(f"steady states in {result.parameter} ({result.n_points} points)", fontsize=9)
    ax.legend(fontsize=8)
    _save_png(fig, path)
    return path


def plot_two_parameter(result: TwoParameterResult, path: Path) -> Path:
    """The two-parameter diagram (module docstring)."""
    plt = _pyplot()
    p, q = result.parameters
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    branch = result.branch
    q0 = branch.special_points[0].parameters[q] if branch.special_points else None
    if q0 is not None:
        ax.axhline(q0, color="0.6", ls=":", lw=1, label=f"{p} branch at {q} = {q0:.4g}")
    seen = set()
    for curve in result.curves:
        color = "tab:blue" if curve.kind == "fold" else "tab:red"
        label = f"{curve.kind} curve" if curve.kind not in seen else None
        seen.add(curve.kind)
        ax.plot(curve.values[:, 0], curve.values[:, 1], color=color, lw=1.6, label=label)
    codim1 = [pt for pt in branch.special_points if pt.kind in ("LP", "H")]
    for point, name in zip(codim1, _labels(codim1)):
        ax.plot(point.parameters[p], point.parameters[q], "o", color="0.3", ms=4)
        ax.annotate(name, (point.parameters[p], point.parameters[q]), xytext=(4, -10), textcoords="offset points",
                    fontsize=7, color="0.3")
    (plo, phi), (qlo, qhi) = result.bounds
    codim2 = result.special_points
    for point, name in zip(codim2, _labels(codim2)):
        # values below 1e-9 of the window print as 0 (a located 0 is 1e-15, not "1.3e-15")
        x, y = (v if abs(v) > 1e-9 * (hi - lo) else 0.0
                for v, (lo, hi) in zip((point.parameters[p], point.parameters[q]), result.bounds))
        ax.plot(x, y, "*", color="k", ms=11, zorder=5)
        ax.annotate(f"{name} ({x:.5g}, {y:.5g})", (x, y), xytext=(6, 6), textcoords="offset points", fontsize=8)
    ax.set_xlim(plo, phi)
    ax.set_ylim(qlo, qhi)
    ax.set_xlabel(p)
    ax.set_ylabel(q)
    ax.set_title("two-parameter bifurcation diagram", fontsize=9)
    ax.legend(fontsize=8)
    _save_png(fig, path)
    return path


def _csv_bytes(header: Sequence[str], rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write_continuation_csv(result: ContinuationResult, path: Path) -> Path:
    """One row per branch point: index, parameter, label, stable, max Re(lambda), concentrations."""
    labels = dict(zip((p.index for p in result.special_points), _labels(result.special_points)))
    rows = ([i, repr(float(result.parameter_values[i])), labels.get(i, ""), int(result.stable[i]),
             repr(float(result.max_real[i])), *[repr(float(v)) for v in result.concentrations[i]]]
            for i in range(result.n_points))
    header = ["index", result.parameter, "label", "stable", "max_real_eigenvalue", *[f"[{s}]" for s in result.species]]
    _replace(path, _csv_bytes(header, rows))
    return path


def write_two_parameter_csv(result: TwoParameterResult, path: Path) -> Path:
    """One row per curve point: curve number, kind, both parameters, Hopf frequency, label."""
    p, q = result.parameters
    rows = []
    for number, curve in enumerate(result.curves, start=1):
        labels = dict(zip((pt.index for pt in curve.special_points), _labels(curve.special_points)))
        for i, (pv, qv) in enumerate(curve.values):
            omega = "" if curve.frequency is None else repr(float(curve.frequency[i]))
            rows.append([number, curve.kind, repr(float(pv)), repr(float(qv)), omega, labels.get(i, "")])
    _replace(path, _csv_bytes(["curve", "kind", p, q, "omega", "label"], rows))
    return path


def _markdown(points, names: Sequence[str], ends: Sequence[str]) -> list[str]:
    """Special points as a Markdown table, then why the branch or curves ended."""
    lines = ["| point | " + " | ".join(f"`{n}`" for n in names) + " | a (fold) / l1 (Hopf) | omega | |",
             "|---|" + "---|" * len(names) + "---|---|---|"]
    for point, name in zip(points, _labels(points)):
        coefficient = "" if point.coefficient is None else f"{point.coefficient:.6g}"
        omega = "" if point.frequency is None else f"{point.frequency:.6g}"
        values = " | ".join(f"{point.parameters[n]:.10g}" for n in names)
        lines.append(f"| {name} | {values} | {coefficient} | {omega} | {point.criticality or ''} |")
    return (lines if points else ["no special points"]) + ["", f"ends: {'; '.join(ends)}", ""]


def prepare_model(model: Model, parameters: Sequence[str]) -> Model:
    """``model`` with its reaction-local parameters promoted when a continuation names one
    (``<reaction>_<id>``, :func:`promote_local_parameters`); otherwise ``model`` itself.

    Raises :class:`UnknownIdError` (before any analysis runs) for ids that are not global
    parameters even then."""
    def globals_of(m: Model) -> set[str]:
        return {p.getId() for p in m.sbml_model.getListOfParameters()}

    if all(p in globals_of(model) for p in parameters):
        return model
    promoted = promote_local_parameters(model)
    known = globals_of(promoted)
    missing = sorted(set(parameters) - known)
    if missing:
        raise UnknownIdError(
            f"Model {model.id!r}: no parameter {format_ids(missing)} to continue. Its parameters "
            f"(reaction-local ones as <reaction>_<id>): {format_ids(sorted(known), 12)}."
        )
    return promoted


def run_continuations(
    engine: Engine,
    one: Sequence[tuple[str, tuple[float, float]]],
    two: Sequence[tuple[tuple[str, str], tuple[tuple[float, float], tuple[float, float]]]],
    out: Path | None = None,
    options: ContinuationOptions | None = None,
) -> tuple[dict, list[str]]:
    """The command line's ``--continue`` and ``--continue2``: run them from the engine's state,
    write PNG + CSV into ``out`` (if given); returns the JSON summary and Markdown lines."""
    summary: dict = {}
    lines: list[str] = []
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    for parameter, bounds in one:
        result = continue_equilibria(engine, parameter, bounds, options=options)
        summary.setdefault("continuation", []).append(result.summary())
        if out is not None:
            png = plot_continuation(result, out / f"continuation_{parameter}.png")
            table = write_continuation_csv(result, out / f"continuation_{parameter}.csv")
            specials = [p for p in result.special_points if p.kind != "EP"]
            lines += [f"## Continuation in `{parameter}`", "", f"{result.n_points} points, "
                      f"{result.seconds:.3g} s", ""] + _markdown(specials, [parameter], result.ends) + \
                     [f"![continuation]({png.name}) (data: [{table.name}]({table.name}))", ""]
    for parameters, bounds in two:
        result2 = continue_two_parameters(engine, parameters, bounds, options=options)
        summary.setdefault("continuation2", []).append(result2.summary())
        if out is not None:
            stem = f"continuation2_{parameters[0]}_{parameters[1]}"
            png = plot_two_parameter(result2, out / f"{stem}.png")
            table = write_two_parameter_csv(result2, out / f"{stem}.csv")
            branch_png = plot_continuation(result2.branch, out / f"{stem}_branch.png")
            curves = ", ".join(f"{c.kind} curve from {c.start} ({len(c.values)} points)" for c in result2.curves)
            lines += [f"## Two-parameter continuation in `{parameters[0]}`, `{parameters[1]}`", "",
                      f"{curves or 'no fold or Hopf point to continue'}; {result2.seconds:.3g} s", ""] + \
                     _markdown(result2.special_points, parameters, [e for c in result2.curves for e in c.ends]) + \
                     [f"![two-parameter diagram]({png.name}) ![branch]({branch_png.name}) "
                      f"(data: [{table.name}]({table.name}))", ""]
    return summary, lines
