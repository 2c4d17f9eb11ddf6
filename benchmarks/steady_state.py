"""Steady-state solves per second: tellurium as a newcomer uses it vs the epl_sysbio engine.

The network (generated here): a cascade of 10 phosphorylation cycles, 20 species,
20 Michaelis-Menten reactions, 10 conservation laws (X_i + Xp_i). The input `u`
drives the first kinase; each Xp_i activates the next kinase. Every timed solve
follows a change of the input, alternating between two values so that Newton
has work to do.

Run: .venv/bin/python benchmarks/steady_state.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import time


def cascade_antimony(n_cycles: int = 10) -> str:
    lines = ["model neuron_cascade", "  compartment cell = 1"]
    for i in range(n_cycles):
        driver = "u" if i == 0 else f"Xp{i - 1}"
        lines.append(f"  species X{i} in cell, Xp{i} in cell")
        lines.append(f"  kin{i}: X{i} => Xp{i}; cell*kcat{i}*{driver}*X{i}/(Km{i} + X{i})")
        lines.append(f"  pase{i}: Xp{i} => X{i}; cell*V{i}*Xp{i}/(Kp{i} + Xp{i})")
        lines.append(f"  X{i} = 1; Xp{i} = 0; kcat{i} = {1.0 + 0.1 * i}; Km{i} = 0.2; V{i} = 0.5; Kp{i} = 0.2")
    lines += ["  u = 1", "end"]
    return "\n".join(lines)


def time_calls(fn, seconds: float, min_calls: int = 3) -> tuple[int, float]:
    calls, t0 = 0, time.perf_counter()
    while calls < min_calls or time.perf_counter() - t0 < seconds:
        fn(calls)
        calls += 1
    return calls, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time budget per contender")
    args = parser.parse_args()
    ant = cascade_antimony()

    import tellurium as te

    from epl_sysbio.model import Model
    from epl_sysbio.simulate import Engine

    inputs = (0.8, 1.6)

    # (a) tellurium with defaults: te.loada, set the input, r.steadyState().
    t0 = time.perf_counter()
    r = te.loada(ant)
    te_load_s = time.perf_counter() - t0
    # From the initial state NLEQ2 stops at "Maximum iterations exceeded"; a newcomer
    # simulates first. Later solves start from the previous steady state.
    r.simulate(0, 100, 2)
    te_failures = []

    def te_solve(i: int) -> None:
        r["u"] = inputs[i % 2]
        try:
            r.steadyState()
        except RuntimeError as exc:
            te_failures.append(str(exc))

    te_calls, te_wall = time_calls(te_solve, args.seconds)
    te_rate = te_calls / te_wall
    te_values = {s: r[f"[{s}]"] for s in ("Xp0", "Xp9")}

    # (b) the engine: compiled once, moiety analysis once, a full result per solve
    # (values, residual, status, method, eigenvalues of the reduced Jacobian).
    t0 = time.perf_counter()
    engine = Engine(Model.from_antimony(ant))
    engine_load_s = time.perf_counter() - t0
    engine.steady_state()

    def engine_solve(i: int) -> None:
        result = engine.steady_state({"u": inputs[i % 2]})
        if not result.stable:
            raise RuntimeError(result.message)

    engine_calls, engine_wall = time_calls(engine_solve, args.seconds)
    engine_rate = engine_calls / engine_wall

    # Same answer as tellurium (same input as tellurium's last call).
    last = engine.steady_state({"u": inputs[(te_calls - 1) % 2]})
    max_rel = max(abs(last.values[s] - v) / abs(v) for s, v in te_values.items())

    # (c) the batch API, reset start, 200 inputs.
    batch_inputs = [{"u": 0.5 + 0.01 * k} for k in range(200)]
    t0 = time.perf_counter()
    batch = engine.steady_state_batch(batch_inputs, ["[Xp9]"])
    batch_rate = len(batch_inputs) / (time.perf_counter() - t0)

    ratio = engine_rate / te_rate
    print(f"network: 20 species, 20 Michaelis-Menten reactions, {len(engine.conserved_totals())} conservation laws")
    print(f"{'contender':<40}{'solves/s':>12}{'load s':>10}")
    print(f"{'tellurium te.loada + r.steadyState()':<40}{te_rate:>12.2f}{te_load_s:>10.2f}")
    print(f"{'epl_sysbio Engine.steady_state()':<40}{engine_rate:>12.0f}{engine_load_s:>10.2f}")
    print(f"{'epl_sysbio steady_state_batch (reset)':<40}{batch_rate:>12.0f}")
    print(f"ratio engine / tellurium default: {ratio:.0f}x   (targets: ratio >= 1000, engine >= 10000/s)")
    print(f"tellurium failures: {len(te_failures)} of {te_calls}")
    print(f"max relative difference vs tellurium at the same input: {max_rel:.2e}; batch all stable: {bool(batch.stable.all())}")
    print(json.dumps({
        "engine_solves_per_s": round(engine_rate, 1),
        "tellurium_default_solves_per_s": round(te_rate, 3),
        "ratio": round(ratio, 1),
        "batch_reset_solves_per_s": round(batch_rate, 1),
        "max_rel_diff_vs_tellurium": max_rel,
        "tellurium_failures": len(te_failures),
    }))


if __name__ == "__main__":
    main()
