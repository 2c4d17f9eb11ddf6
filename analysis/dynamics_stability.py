"""Steady states of generated EPL networks: how often the engine finds a stable one.

    python analysis/dynamics_stability.py --out runs/dynamics_stability [--quick] [--seed 0] [--workers 2] [--timeout 120]

For each of --specs random specs (epl_sysbio.dynamics.random_spec, n_nodes uniform in
2..50, friction c ~ U(0.1, 1), reservoir on 10 % of the nodes, charges 0.1 * {-1, 0, 1})
the SBML model is generated, compiled by the Engine (moiety analysis on) and solved
once from its initial state. Spec i is drawn from its own generator
(SeedSequence(seed).spawn), so results do not depend on the number of workers.
Every tenth spec, if it has Hamiltonian edges, is also solved with all friction set to 0,
where the momenta are undamped and the steady state is expected to be marginal.

Writes into --out:
  specs.csv         one row per spec: size, status, method, seconds, frictionless status
  status_by_size.png  stacked status counts per size bin, with friction
  compile_time.png  seconds to generate + compile against the number of nodes
and prints one JSON line of headline figures as its last line.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from queue import Empty

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from _script import save_figure, start_run, write_csv  # noqa: E402  (sibling module)

from epl_sysbio.dynamics import random_spec, spec_to_model  # noqa: E402
from epl_sysbio.simulate import Engine  # noqa: E402

STATUSES = ("stable", "marginal", "unstable", "not_converged", "hung")


def _solve(spec, friction: bool) -> tuple[dict, float, float]:
    if not friction:
        nodes = tuple(dataclasses.replace(n, friction=0.0) for n in spec.nodes)
        spec = dataclasses.replace(spec, nodes=nodes)
    t0 = time.perf_counter()
    engine = Engine(spec_to_model(spec))
    t1 = time.perf_counter()
    result = engine.steady_state()
    return {"status": result.status.value, "method": result.method.value, "species": len(engine.floating_ids),
            "reactions": len(engine.reaction_ids), "message": result.message[:300].replace("\n", " ")}, \
        t1 - t0, time.perf_counter() - t1


def _child(spec, friction: bool, queue) -> None:
    queue.put(_solve(spec, friction))


def _solve_guarded(spec, friction: bool, timeout: float) -> tuple[dict, float, float]:
    """:func:`_solve` in a forked child, killed after ``timeout`` seconds.

    libRoadRunner 2.10's NLEQ2 can loop for ever inside its QR decomposition (``deccon``)
    on some frictionless networks; C code cannot be interrupted in-process, so a hang is
    recorded as status ``hung`` instead of stalling the run.
    """
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(spec, friction, queue))
    child.start()
    try:
        return queue.get(timeout=timeout)
    except Empty:
        child.kill()
        return {"status": "hung", "method": "none", "species": -1, "reactions": -1,
                "message": f"no result within {timeout:g} s (killed)"}, float("nan"), float("nan")
    finally:
        child.join()


def solve_one(args: tuple[int, np.random.SeedSequence, int, float]) -> dict:
    index, seed, max_nodes, timeout = args
    rng = np.random.default_rng(seed)
    spec = random_spec(rng, n_nodes=int(rng.integers(2, max_nodes + 1)))
    solved, compile_s, solve_s = _solve_guarded(spec, True, timeout)
    row = {"index": index, "nodes": len(spec.nodes), "species": solved["species"],
           "reactions": solved["reactions"], "hamiltonian_edges": len(spec.hamiltonian),
           "status": solved["status"], "method": solved["method"],
           "compile_s": compile_s, "solve_s": solve_s, "message": solved["message"],
           "frictionless_status": ""}
    if spec.hamiltonian and index % 10 == 0:
        row["frictionless_status"] = _solve_guarded(spec, False, timeout)[0]["status"]
    return row


def main(argv: list[str] | None = None) -> None:
    import argparse

    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--workers", type=int, default=2)
    extra.add_argument("--timeout", type=float, default=120.0, help="seconds per solve before it counts as hung")
    known, rest = extra.parse_known_args(argv)
    args, cfg, _ = start_run(__doc__.splitlines()[0], rest, full={"specs": 1000, "max_nodes": 50},
                             quick={"specs": 20, "max_nodes": 20})
    seeds = np.random.SeedSequence(args.seed).spawn(cfg["specs"])
    jobs = [(i, s, cfg["max_nodes"], known.timeout) for i, s in enumerate(seeds)]
    t0 = time.perf_counter()
    rows = []
    # Threads hand each spec to a forked child (see _solve_guarded), so a hung solve can be killed.
    with ThreadPoolExecutor(max_workers=known.workers) as pool:
        for future in as_completed([pool.submit(solve_one, job) for job in jobs]):
            rows.append(future.result())
            if len(rows) % 10 == 0:  # plain progress lines: libRoadRunner's solver logs share stderr
                print(f"{len(rows)}/{len(jobs)} specs, {time.perf_counter() - t0:.0f} s", flush=True)
                # Finished first = solved fastest: a partial summary leans towards easy specs.
                (args.out / "partial.json").write_text(json.dumps(summary(rows, time.perf_counter() - t0)))
    rows.sort(key=lambda r: r["index"])
    wall = time.perf_counter() - t0

    header = list(rows[0])
    write_csv(args.out / "specs.csv", header, ([r[h] for h in header] for r in rows))

    nodes = np.array([r["nodes"] for r in rows])
    bins = [(2, 10), (11, 20), (21, 30), (31, 40), (41, 50)]
    fig, ax = plt.subplots(figsize=(7, 4))
    bottom = np.zeros(len(bins))
    for status, colour in zip(STATUSES, ("tab:green", "tab:orange", "tab:red", "tab:gray", "black")):
        counts = np.array([sum(1 for r in rows if lo <= r["nodes"] <= hi and r["status"] == status)
                           for lo, hi in bins])
        ax.bar([f"{lo}-{hi}" for lo, hi in bins], counts, bottom=bottom, color=colour, label=status)
        bottom += counts
    ax.set_xlabel("nodes")
    ax.set_ylabel("random specs")
    ax.set_title(f"Engine.steady_state on {len(rows)} generated networks (friction > 0)")
    ax.legend()
    save_figure(fig, args.out / "status_by_size.png")

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter(nodes, [r["compile_s"] for r in rows], s=8, label="generate + compile (Engine)")
    ax.scatter(nodes, [r["solve_s"] for r in rows], s=8, label="first steady state")
    ax.set_yscale("log")
    ax.set_xlabel("nodes")
    ax.set_ylabel("seconds")
    ax.legend()
    save_figure(fig, args.out / "compile_time.png")

    for r in rows:
        if r["status"] != "stable":
            print(f"{r['index']} ({r['nodes']} nodes): {r['status']}: {r['message'][:160]}")
    print(json.dumps(summary(rows, wall)))


def summary(rows: list[dict], wall: float) -> dict:
    """Headline figures of the rows so far."""
    status = Counter(r["status"] for r in rows)
    free = Counter(r["frictionless_status"] for r in rows if r["frictionless_status"])
    return {
        "specs": len(rows),
        "stable_rate": status["stable"] / len(rows),
        "status_counts": dict(sorted(status.items())),
        "method_counts": dict(sorted(Counter(r["method"] for r in rows).items())),
        "frictionless_specs": sum(free.values()),
        "frictionless_status_counts": dict(sorted(free.items())),
        "median_compile_s": float(np.nanmedian([r["compile_s"] for r in rows])),
        "median_solve_s": float(np.nanmedian([r["solve_s"] for r in rows])),
        "max_nodes": max(r["nodes"] for r in rows),
        "wall_s": round(wall, 1),
    }


if __name__ == "__main__":
    main()
