"""Fault injection: kill runs and resume them, feed hostile input, and watch memory over long runs.

    nice python analysis/fault_injection.py --out runs/fault_injection [--quick] [--seed 0] [--kills 20]

1. Kill and resume (the installed ``epl-sysbio`` command, real processes). A smoke-sized job
   (XOR, 4 learners x 3 generations, 1 epoch) runs once uninterrupted; then ``--kills`` times
   it is started, SIGKILLed at a seeded random moment within the reference's duration and
   continued with ``--resume``; a few runs get SIGINT (Ctrl-C) instead. Then, in forked
   children, a run is killed right after each of its atomic renames (every state transition
   of the run directory) and resumed. A resume counts as identical when ``logbook.csv`` and
   ``generations.jsonl`` equal the reference's except for wall-clock columns.
2. Bad input. Every reproduction of issue 18 (generated files: nested XML, Antimony that
   crashes Antimony, imports, external model files, unwritable outputs, unreadable and
   non-UTF-8 files, absurd bounds, overflowing values) through the command line, and the grid
   of extreme ``--set`` values (0, -0, 1e-300, 5e-324, 1e308, -1e308, inf, -inf, nan, -1) on
   every id of every bundled model. A case is clean when it ends within its budget with exit
   0, 1 or 2 (the expected one where the issue names it), prints no traceback, and its stdout,
   if any, is the promised JSON.
3. Memory. 20,000 ``steady_state(start="reset")`` solves of BIOMD0000000033 (every solve
   presimulates) with the resident set size sampled every 1,000 solves, next to the same
   count of bare ``RoadRunner.simulate`` calls (the leak found in libRoadRunner 2.10); growth
   per 10,000 calls is the slope over the second half (the allocator fills its arenas first).
   And the resident set of one process evaluating 300 paper-preset learners (generation-0
   genomes, what each of the main job's workers does through a run), per evaluation.

Writes into --out: kills.csv, transitions.csv, bad_inputs.csv, memory.csv, memory.png, and
prints one JSON line of headline figures as its last line (machine load recorded in it).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from _script import save_figure, start_run, write_csv  # noqa: E402  (sibling module)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import hostile_fixtures as hostile  # noqa: E402  (generated hostile models, shared with the tests)

from epl_sysbio.epl.config import PRESETS, job_config_to_toml  # noqa: E402

_SCRIPT = Path(sys.executable).with_name("epl-sysbio")
CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "epl_sysbio.cli"]  # what a user runs
MODELS = ROOT / "sbml_models"
BIOMD33 = ROOT / "tests" / "data" / "biomodels" / "BIOMD0000000033.xml"
JOB = PRESETS["smoke"].replace(neat={"population_size": 4}, run={"generations": 3, "plots": False},
                               task={"epochs": 1})
EXTREMES = ["0", "-0", "1e-300", "5e-324", "1e308", "-1e308", "inf", "-inf", "nan", "-1"]

FULL = {"kills": 20, "interrupts": 3, "transitions": True, "solves": 20_000, "evaluations": 300, "grid": True}
QUICK = {"kills": 4, "interrupts": 1, "transitions": False, "solves": 2_000, "evaluations": 4, "grid": False}


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


# ---------------------------------------------------------------------------------- 1. kill and resume

def comparable(out: Path) -> tuple[list[list[str]], list[dict]] | None:
    """logbook.csv and generations.jsonl without wall-clock columns (None if absent)."""
    try:
        rows = [line.split(",") for line in (out / "logbook.csv").read_text().splitlines()]
        entries = [json.loads(line) for line in (out / "generations.jsonl").read_text().splitlines()]
    except (OSError, ValueError):
        return None
    drop = rows[0].index("wall_s")
    for entry in entries:
        entry["record"].pop("wall_s", None)
    return [r[:drop] + r[drop + 1:] for r in rows], entries


def evolve_cmd(config: Path, out: Path, *, resume: bool = False) -> list[str]:
    return [*CLI, "evolve", str(config), "--out", str(out), *(["--resume"] if resume else [])]


def kill_campaign(work: Path, config: Path, reference: tuple, duration: float, n_kills: int, n_interrupts: int,
                  rng: random.Random) -> list[dict]:
    rows = []
    for i in range(n_kills + n_interrupts):
        sig = signal.SIGKILL if i < n_kills else signal.SIGINT
        out = work / f"kill{i:02d}"
        proc = subprocess.Popen(evolve_cmd(config, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        at = rng.uniform(0.0, duration)
        time.sleep(at)
        proc.send_signal(sig)
        err = proc.communicate(timeout=600)[1].decode()
        killed = proc.returncode == -signal.SIGKILL or (sig == signal.SIGINT and proc.returncode == 130)
        resumed = subprocess.run(evolve_cmd(config, out, resume=out.exists()), capture_output=True, text=True,
                                 timeout=1200)
        identical = resumed.returncode == 0 and comparable(out) == reference
        rows.append({"run": i, "signal": sig.name, "at_s": round(at, 3), "exit": proc.returncode,
                     "killed_mid_run": killed, "resume_exit": resumed.returncode, "identical": identical,
                     "traceback": "Traceback" in err + resumed.stderr})
        print(f"kill {i}: {sig.name} at {at:.2f} s, exit {proc.returncode}, resume {resumed.returncode}, "
              f"identical {identical}", flush=True)
    return rows


def _forked_job(out: Path, resume: bool, kill_after: int) -> int:
    """run_job in a forked child that SIGKILLs itself right after its ``kill_after``-th atomic rename."""
    from epl_sysbio.epl.job import run_job

    pid = os.fork()
    if pid:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    code = 3
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        real, count = os.replace, [0]

        def replace_then_die(src, dst, *args, **kwargs):
            real(src, dst, *args, **kwargs)
            count[0] += 1
            if count[0] == kill_after:
                os.kill(os.getpid(), signal.SIGKILL)

        if kill_after:
            os.replace = replace_then_die
        run_job(JOB, out, resume_run=resume)
        code = 0
    finally:
        os._exit(code)


def transition_campaign(work: Path, reference: tuple) -> list[dict]:
    rows, k = [], 0
    while True:
        k += 1
        out = work / f"transition{k:03d}"
        if _forked_job(out, False, k) == 0:
            break  # fewer than k renames: every transition was covered
        code = _forked_job(out, out.exists(), 0)
        rows.append({"after_rename": k, "resume_exit": code, "identical": code == 0 and comparable(out) == reference})
        print(f"killed after rename {k}: identical {rows[-1]['identical']}", flush=True)
    return rows


# ---------------------------------------------------------------------------------- 2. bad input

def bad_input_cases(work: Path) -> list[tuple[str, list[str], set[int], float]]:
    """(name, argv, allowed exit codes, budget in seconds) for every reproduction of issue 18."""
    f = work / "files"
    f.mkdir(parents=True, exist_ok=True)

    def put(name: str, text: str | bytes) -> str:
        path = f / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return str(path)

    synapse, homeostatic = str(MODELS / "receptor_synapse.ant"), str(MODELS / "homeostatic_unit.ant")
    neuron = str(MODELS / "phosphorylation_cycle_neuron.ant")
    put("inner.ant", hostile.IMPORTED_MODEL)
    unreadable = put("unreadable.ant", "model m\n  S = 1\nend\n")
    os.chmod(unreadable, 0)
    big_population = put("population.toml", "[neat]\npopulation_size = 1000000000\n")
    latin1 = put("latin1.toml", b"[run]\nseed = 1 # caf\xe9\n")
    existing = put("existing.xml", "precious\n")
    cases = [
        ("math nested 10,000 (libsbml crash)", ["validate", put("math10k.xml", hostile.nested_math_sbml(10_000))],
         {2}, 60),
        ("math nested 5,000 (libRoadRunner crash)", ["steady", put("math5k.xml", hostile.nested_math_sbml(5_000))],
         {2}, 60),
        ("math nested 10,000, limit raised", ["validate", f / "math10k.xml", "--max-depth", "20000"], {2}, 120),
        ("annotation nested 30,000", ["validate", put("ann30k.xml", hostile.nested_annotation_sbml(30_000))], {2}, 60),
        ("annotation nested 10,000 (minutes)", ["convert", put("ann10k.xml", hostile.nested_annotation_sbml(10_000)),
                                                 "--to", "sbml"], {2}, 60),
        ("Antimony exp( nested 4,500", ["steady", put("exp.ant", hostile.antimony_nested_calls(4_500))], {2}, 60),
        ("Antimony k-k-... 8,000 terms", ["steady", put("chain.ant", hostile.antimony_minus_chain(8_000))], {2}, 60),
        ("kon=1e308 (NLEQ2 hang)", ["steady", synapse, "--set", "kon=1e308", "--format", "json"], {1}, 120),
        ("L=1e308", ["steady", synapse, "--set", "L=1e308", "--format", "json"], {1}, 120),
        ("cleft=1e-300", ["steady", synapse, "--set", "cleft=1e-300", "--format", "json"], {1}, 120),
        ("h=1e308 (NLEQ2 hang, finite rates)", ["steady", homeostatic, "--set", "h=1e308", "--format", "json"],
         {1}, 120),
        ("kon=1e30 (solver warnings)", ["steady", synapse, "--set", "kon=1e30", "--format", "json"], {0, 1}, 120),
        ("budget of 0.5 s", ["analyze", str(MODELS / "schloegl_bistable.ant"), "--scan", "k4=5:7:400",
                             "--timeout", "0.5"], {1}, 60),
        ("Antimony import", ["convert", put("outer.ant", hostile.IMPORTING_MODEL.format(path="inner.ant")), "--to",
                             "antimony"], {2}, 60),
        ("import /etc/passwd", ["steady", put("pw.ant", hostile.IMPORTING_MODEL.format(path="/etc/passwd"))], {2}, 60),
        ("import outside the model directory", ["convert", put("escape.ant", hostile.IMPORTING_MODEL.format(
            path="../../etc/passwd")), "--to", "antimony", "--allow-imports"], {2}, 60),
        ("SBML external model file outside", ["validate", put("ext.xml", hostile.external_model_sbml("/etc/passwd"))],
         {2}, 60),
        ("convert -o /dev/full", ["convert", synapse, "--to", "sbml", "-o", "/dev/full"], {2}, 60),
        ("convert -o /proc/x", ["convert", synapse, "--to", "sbml", "-o", "/proc/x"], {2}, 60),
        ("convert -o a missing directory", ["convert", synapse, "--to", "sbml", "-o", str(f / "no" / "x.xml")],
         {2}, 60),
        ("convert -o a directory", ["convert", synapse, "--to", "sbml", "-o", str(f)], {2}, 60),
        ("convert -o over an existing file", ["convert", synapse, "--to", "sbml", "-o", existing], {0}, 60),
        ("demo --out /proc/x", ["demo", "--model", neuron, "--out", "/proc/x"], {2}, 120),
        ("analyze --report /dev/full", ["analyze", neuron, "--report", "/dev/full"], {2}, 300),
        ("xor --out /proc/x", ["xor", "--out", "/proc/x", "--generations", "1"], {2}, 60),
        ("unreadable model (steady)", ["steady", unreadable], {2}, 60),
        ("unreadable model (validate)", ["validate", unreadable], {2}, 60),
        ("unreadable model (convert)", ["convert", unreadable, "--to", "sbml"], {2}, 60),
        ("negative compartment", ["steady", put("neg.ant", Path(synapse).read_text().replace("cleft = 0.5",
                                                                                            "cleft = -0.5"))], {2}, 60),
        ("zero compartment by --set", ["steady", synapse, "--set", "cleft=0"], {2}, 60),
        ("non-UTF-8 TOML (evolve)", ["evolve", latin1, "--out", str(f / "run-latin1")], {2}, 60),
        ("non-UTF-8 TOML (xor)", ["xor", "--config", latin1, "--out", str(f / "run-latin1-xor")], {2}, 60),
        ("population 1e9 (evolve)", ["evolve", big_population, "--out", str(f / "run-pop")], {2}, 60),
        ("population 1e9 (xor)", ["xor", "--config", big_population, "--out", str(f / "run-pop-xor")], {2}, 60),
        ("missing model", ["steady", str(f / "missing.ant")], {2}, 60),
        ("a directory as model", ["validate", str(f)], {2}, 60),
        ("resume of nothing", ["evolve", "--out", str(f / "nothing"), "--resume"], {2}, 60),
    ]
    return [(name, [str(a) for a in argv], codes, budget) for name, argv, codes, budget in cases]


def _as_user() -> list[str]:
    """As root every file is readable: drop the capabilities that bypass permissions (setpriv)."""
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--inh-caps",
            "-dac_override,-dac_read_search"] if os.geteuid() == 0 else []


def run_case(name: str, argv: list[str], codes: set[int], budget: float) -> dict:
    prefix = _as_user() if name.startswith("unreadable") else []
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([*prefix, *CLI, *argv], capture_output=True, text=True, timeout=budget + 60)
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired:
        code, out, err = None, "", "hung past its budget"
    return _judge(name, argv, codes, budget, code, out, err, time.perf_counter() - t0)


def _judge(name, argv, codes, budget, code, out, err, seconds) -> dict:
    json_ok = True
    if "--format" in argv and argv[argv.index("--format") + 1] == "json" and code in (0, 1) and out.strip():
        try:
            json.loads(out)
        except ValueError:
            json_ok = False
    clean = (code in codes and "Traceback" not in err and "internal error" not in err and json_ok
             and seconds <= budget + 60)
    return {"case": name, "exit": code, "expected": "/".join(map(str, sorted(codes))), "seconds": round(seconds, 2),
            "clean": clean, "message": (err.strip().splitlines() or [""])[-1][:200]}


def extreme_grid() -> list[dict]:
    """Every extreme value on every id of every bundled model, through ``main()`` (each solve forks its child)."""
    from epl_sysbio.cli import main
    from epl_sysbio.model import load_model

    rows = []
    for path in sorted(MODELS.glob("*.ant")):
        model = load_model(path)
        ids = sorted(model.parameter_ids + model.compartment_ids + model.floating_species_ids)
        for sid in ids:
            for value in EXTREMES:
                argv = ["steady", str(path), "--set", f"{sid}={value}", "--format", "json", "--timeout", "30"]
                out, t0 = io.StringIO(), time.perf_counter()
                with tempfile.TemporaryFile("w+") as err_file, contextlib.redirect_stdout(out):
                    saved = os.dup(2)
                    os.dup2(err_file.fileno(), 2)
                    try:
                        code = main(argv)
                    finally:
                        sys.stderr.flush()
                        os.dup2(saved, 2)
                        os.close(saved)
                    err_file.seek(0)
                    err = err_file.read()
                rows.append(_judge(f"{path.stem} {sid}={value}", argv, {0, 1, 2}, 30.0, code, out.getvalue(), err,
                                   time.perf_counter() - t0))
    return rows


# ---------------------------------------------------------------------------------- 3. memory

def engine_memory(solves: int) -> tuple[list[tuple[int, float, float]], float, float]:
    """RSS (MB) every 1,000 calls: steady_state(start='reset') vs bare simulate(); MB per 10k of each over the
    second half of the calls."""
    from epl_sysbio.model import load_model
    from epl_sysbio.simulate import Engine

    engine = Engine(load_model(BIOMD33))
    assert engine.steady_state(start="reset").method.value == "presimulation"
    samples = []
    for kind in ("steady_state", "simulate"):
        call = (lambda: engine.steady_state(start="reset")) if kind == "steady_state" else \
            (lambda: (engine.reset(), engine.roadrunner.simulate(0.0, 10.0, 2)))
        for _ in range(200):
            call()
        base = rss_mb()
        for i in range(1, solves + 1):
            call()
            if i % 1000 == 0:
                samples.append((kind, i, rss_mb() - base))
    # The slope over the second half: the allocator's arenas fill during the first thousands of calls
    # (measured: +0.9 MB over the first 10,000 solves, flat after), a leak keeps growing.
    per_10k = {}
    for k in ("steady_state", "simulate"):
        pts = [(i, g) for kk, i, g in samples if kk == k]
        (i0, g0), (i1, g1) = pts[len(pts) // 2 - 1], pts[-1]
        per_10k[k] = (g1 - g0) * 10_000 / (i1 - i0)
    return samples, per_10k["steady_state"], per_10k["simulate"]


def learner_memory(evaluations: int, seed: int) -> list[tuple[int, float, float]]:
    """RSS after each evaluation of generation-0 genomes of the paper preset (what a worker does)."""
    import numpy as np

    from epl_sysbio.epl.substrate import evaluate_genome
    from epl_sysbio.evolve import initial_genome
    from epl_sysbio.seeds import derive_seed

    config = PRESETS["paper"]
    rng = np.random.default_rng(seed)
    genomes = [initial_genome(config.neat, rng) for _ in range(evaluations)]
    evaluate_genome(genomes[0], derive_seed(seed, 0, 0), config)  # imports, first compile
    base, rows, t0 = rss_mb(), [], time.perf_counter()
    for i, genome in enumerate(genomes, start=1):
        evaluate_genome(genome, derive_seed(seed, 0, i), config)
        rows.append((i, rss_mb() - base, time.perf_counter() - t0))
    return rows


def main(argv: list[str] | None = None) -> None:
    args, cfg, _ = start_run(__doc__.splitlines()[0], argv, FULL, QUICK)
    rng = random.Random(args.seed)
    load = os.getloadavg()[0]
    work = args.out / "work"
    work.mkdir(exist_ok=True)
    config = work / "job.toml"
    config.write_text(job_config_to_toml(JOB))

    t0 = time.perf_counter()
    reference_dir = work / "reference"
    subprocess.run(evolve_cmd(config, reference_dir, resume=False), check=True, capture_output=True,
                   timeout=1200)
    duration = time.perf_counter() - t0
    reference = comparable(reference_dir)
    kills = kill_campaign(work, config, reference, duration, cfg["kills"], cfg["interrupts"], rng)
    write_csv(args.out / "kills.csv", list(kills[0]), [list(r.values()) for r in kills])
    transitions = transition_campaign(work, reference) if cfg["transitions"] else []
    if transitions:
        write_csv(args.out / "transitions.csv", list(transitions[0]), [list(r.values()) for r in transitions])

    bad = [run_case(*case) for case in bad_input_cases(work)]
    for row in bad:
        print(f"{'clean' if row['clean'] else 'NOT CLEAN'}: {row['case']}: exit {row['exit']} "
              f"({row['seconds']} s) {row['message'][:120]}", flush=True)
    grid = extreme_grid() if cfg["grid"] else []
    write_csv(args.out / "bad_inputs.csv", list(bad[0]), [list(r.values()) for r in bad + grid])

    samples, steady_per_10k, simulate_per_10k = engine_memory(cfg["solves"])
    learners = learner_memory(cfg["evaluations"], args.seed)
    write_csv(args.out / "memory.csv", ["kind", "calls", "rss_growth_mb"], samples)
    write_csv(args.out / "learner_memory.csv", ["evaluations", "rss_growth_mb", "seconds"], learners)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for kind, color in (("steady_state", "tab:blue"), ("simulate", "tab:red")):
        pts = [(i, g) for k, i, g in samples if k == kind]
        label = "Engine.steady_state(start='reset')" if kind == "steady_state" else "RoadRunner.simulate(0, 10, 2)"
        ax1.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=color, label=label, ms=3)
    ax1.set_xlabel("calls (BIOMD0000000033)")
    ax1.set_ylabel("resident memory growth (MB)")
    ax1.set_title("engine levels off; libRoadRunner simulate() keeps growing")
    ax1.legend(fontsize=8)
    ax2.plot([r[0] for r in learners], [r[1] for r in learners], "o-", color="tab:green", ms=3)
    ax2.set_xlabel("paper-preset learner evaluations in one process")
    ax2.set_ylabel("resident memory growth (MB)")
    ax2.set_title("a worker of the main job")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    save_figure(fig, args.out / "memory.png")

    learner_growth = learners[-1][1] if learners else 0.0
    summary = {
        "kills": sum(r["signal"] == "SIGKILL" for r in kills),
        "interrupts": sum(r["signal"] == "SIGINT" for r in kills),
        "killed_mid_run": sum(r["killed_mid_run"] for r in kills),
        "resumed_identical": sum(r["identical"] for r in kills),
        "transition_kills": len(transitions),
        "transition_resumed_identical": sum(r["identical"] for r in transitions),
        "bad_inputs_tried": len(bad) + len(grid),
        "bad_inputs_clean": sum(r["clean"] for r in bad + grid),
        "issue_reproductions_tried": len(bad),
        "issue_reproductions_clean": sum(r["clean"] for r in bad),
        "rss_growth_mb_per_10k_solves": round(steady_per_10k, 3),
        "rss_growth_mb_total_engine_solves": round([g for k, i, g in samples if k == "steady_state"][-1], 3),
        "engine_solves": cfg["solves"],
        "rss_growth_mb_per_10k_simulate_calls_libroadrunner": round(simulate_per_10k, 3),
        "learner_rss_growth_mb_per_evaluation": round(learner_growth / max(len(learners), 1), 3),
        "learner_evaluations": len(learners),
        "reference_run_s": round(duration, 2),
        "load_average_at_start": round(load, 1),
        "seed": args.seed,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
