"""The built-in default job of ``make run`` (until the evolution job lands):
an input-response sweep of a bundled neuron model, with a warm-started batch of
steady states, a stability check at every point and a relaxation trace."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from epl_sysbio.errors import FileAccessError, InvalidValueError
from epl_sysbio.files import atomic_write_text, describe_os_error, save_figure
from epl_sysbio.model import Model, load_model
from epl_sysbio.simulate import Engine


def run_demo(model_path: Path, out: Path, *, input_id: str = "u", output_id: str = "Xp", **load: Any) -> dict:
    """Sweep ``input_id`` over [0, 3], solve steady states, write CSV + PNG into ``out``.

    ``load`` goes to :func:`~epl_sysbio.model.load_model` (limits, imports).
    Returns a summary dict (also written as ``summary.json``).
    """
    model: Model = load_model(model_path, **load)
    engine = Engine(model)
    if input_id not in engine.parameter_ids or output_id not in engine.floating_ids:
        raise InvalidValueError(
            f"demo needs parameter {input_id!r} and species {output_id!r} in {model_path}; "
            "use the bundled model phosphorylation_cycle_neuron (epl_sysbio.models.path(...))."
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileAccessError(f"Cannot create the output directory {str(out)!r}: {describe_os_error(exc)}. "
                              "Choose another --out.") from None
    inputs = np.linspace(0.0, 3.0, 301)
    t0 = time.perf_counter()
    batch = engine.steady_state_batch([{input_id: float(u)} for u in inputs], [f"[{output_id}]"], start="warm")
    wall = time.perf_counter() - t0
    response = batch.values[:, 0]
    table = io.StringIO(newline="")
    writer = csv.writer(table)
    writer.writerow([input_id, output_id, "status"])
    for u, y, s in zip(inputs, response, batch.status):
        writer.writerow([f"{u:.6g}", f"{y:.12g}", s.value])
    atomic_write_text(out / "input_response.csv", table.getvalue())

    # Relaxation after a step of the input from 0.5 to 1.5: how the neuron gets there.
    engine.reset()
    engine.steady_state({input_id: 0.5})
    engine.set_values({input_id: 1.5})
    relaxed = engine.relax([f"[{output_id}]"], t_max=200.0, points_per_chunk=25)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(inputs, response, color="tab:blue")
    ax1.set_xlabel(f"input {input_id}")
    ax1.set_ylabel(f"steady-state [{output_id}]")
    ax1.set_title(f"{model.id}: steady-state response")
    ax1.grid(alpha=0.3)
    # A log time axis shows the fast and the slow phase; t = 0 (the state before the step) has no
    # place on it, so it is drawn as a reference line (a symlog axis would bend the curve at its threshold).
    t, y = relaxed.trace[:, 0], relaxed.trace[:, 1]
    ax2.axhline(y[0], color="grey", lw=0.8, ls=":", label=f"before the step ({input_id} = 0.5)")
    ax2.axhline(y[-1], color="tab:blue", lw=0.8, ls="--", label=f"steady state at {input_id} = 1.5")
    ax2.plot(t[t > 0], y[t > 0], color="tab:red", marker=".", ms=3, label="relaxation")
    ax2.set_xscale("log")
    ax2.set_xlabel("time after the step (s)")
    ax2.set_ylabel(f"[{output_id}]")
    ax2.set_title(f"relaxation after {input_id}: 0.5 -> 1.5 ({relaxed.ended_by} at t = {relaxed.time:.3g})")
    ax2.legend(fontsize=8, loc="best")
    ax2.grid(alpha=0.3, which="both")
    fig.tight_layout()
    save_figure(fig, out / "input_response.png", dpi=120)
    plt.close(fig)

    half = float(inputs[np.argmin(np.abs(response - 0.5 * np.nanmax(response)))])
    summary = {
        "model": model.id,
        "points": len(inputs),
        "stable_points": int(batch.stable.sum()),
        "solves_per_s": round(len(inputs) / wall, 1),
        "half_max_input": half,
        "relaxation_ended_by": relaxed.ended_by,
        "relaxation_time_s": relaxed.time,
        "out": str(out),
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))
    print(f"wrote {out}/input_response.csv, input_response.png and summary.json")
    return summary
