"""SBML fidelity, measured by the SBML Test Suite (semantic cases).

For every case of a checkout of sbmlteam/sbml-test-suite (the newest SBML
level/version the case has), four runs, each in a child process with a
timeout, so that a native crash or hang costs one run, not the whole job:

  original  libRoadRunner on the case's file
  export    Model.from_sbml_file(...).to_sbml(), run by libRoadRunner
  edited    the same after a harmless edit (one species renamed, one parameter
            set to its own value), run by libRoadRunner
  engine    our Engine (epl_sysbio.simulate) on the loaded model: time_course

Each run is compared with the case's expected results under the case's own
absolute and relative tolerances (tests/sbml_suite.py); the integrator runs at
relative/absolute tolerances 1e-10/1e-14 in all four.

Statuses: pass; mismatch (simulated, values off: the first one is named);
error (the simulator raised: its message); refused (our load or export raised
an EplSysbioError); unsupported (the Engine refuses the case with a documented
reason); not_applicable (not a time course: flux balance cases); crash (the
child process died: the signal); timeout.

Headline figures: ``lost`` counts cases libRoadRunner passes on the original
and not after our round trip; ``refused`` counts cases our load or export
refuses (every suite model is valid SBML); ``engine_silent_mismatch`` counts
cases where the Engine returns a wrong trajectory without saying so, and
libRoadRunner on the original does not return a wrong one itself.

Writes cases.csv (one row per case), tags.csv and tags.md (per component and
test tag) and native.log (the simulators' own messages) into --out, prints
the tag table and ends with one JSON line.

    git clone https://github.com/sbmlteam/sbml-test-suite   # or any checkout of it
    .venv/bin/python analysis/sbml_test_suite.py --suite sbml-test-suite --out runs/sbml_test_suite
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import multiprocessing
import os
import sys
import time
import traceback
from multiprocessing.connection import wait
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import sbml_suite  # noqa: E402  (test helper: cases, settings, comparison)

STAGES = ("original", "export", "edited", "engine")
#: The libRoadRunner messages of features it does not simulate, by the name the table uses.
_UNSUPPORTED_BY_ROADRUNNER = {
    "algebraic rules": "Unable to support algebraic rules",
    "delay differential equations": "Unable to support delay differential equations",
    "fast reactions": "Unable to support 'fast' reactions",
}


# ---------------------------------------------------------------------------- one run (child side)
def _original(case: sbml_suite.Case) -> tuple[str, str]:
    try:
        actual = sbml_suite.simulate_roadrunner(case.sbml_path(), case)
    except RuntimeError as exc:
        return "error", _one_line(exc)
    result = sbml_suite.check(case, actual)
    return ("pass", "") if result.ok else ("mismatch", result.reason)


def _exported(case: sbml_suite.Case, edit: bool) -> tuple[str, str]:
    from epl_sysbio import EplSysbioError, Model

    renamed: dict[str, str] = {}
    try:
        model = Model.from_sbml_file(case.sbml_path())
        if edit:
            renamed = sbml_suite.harmless_edit(model, case.expected()[0][1:])
        text = model.to_sbml()
    except EplSysbioError as exc:
        return "refused", _one_line(exc)
    if not case.is_time_course:
        return "not_applicable", f"exported; {case.test_type} is not a time course"
    try:
        actual = sbml_suite.simulate_roadrunner(text, case, renamed)
    except RuntimeError as exc:
        return "error", _one_line(exc)
    result = sbml_suite.check(case, actual)
    return ("pass", "") if result.ok else ("mismatch", result.reason)


def _engine(case: sbml_suite.Case) -> tuple[str, str]:
    from epl_sysbio import EplSysbioError, Model
    from epl_sysbio.errors import UnknownIdError, UnsupportedModelError
    from epl_sysbio.simulate import Engine

    if not case.is_time_course:
        return "not_applicable", f"{case.test_type} is not a time course"
    try:
        model = Model.from_sbml_file(case.sbml_path())
    except EplSysbioError as exc:
        return "refused", _one_line(exc)
    settings = case.settings()
    header, _ = case.expected()
    try:
        engine = Engine(model)
        sbml_suite.tighten(engine.roadrunner)
        sel = sbml_suite.selections(settings, header[1:])[1:]
        actual = engine.time_course(settings.duration, settings.steps + 1, sel)
    except (UnsupportedModelError, UnknownIdError) as exc:
        return "unsupported", _one_line(exc)
    except EplSysbioError as exc:
        return "error", _one_line(exc)
    except RuntimeError as exc:
        return "error", _one_line(exc)
    result = sbml_suite.check(case, actual)
    return ("pass", "") if result.ok else ("mismatch", result.reason)


def _run(case_dir: str, stage: str) -> dict:
    start = time.process_time()
    case = sbml_suite.read_case(Path(case_dir))
    try:
        if stage == "original":
            status, reason = (_original(case) if case.is_time_course
                              else ("not_applicable", f"{case.test_type} is not a time course"))
        elif stage == "engine":
            status, reason = _engine(case)
        else:
            status, reason = _exported(case, edit=stage == "edited")
    except Exception as exc:  # noqa: BLE001 (a bug of ours is a result too, with its traceback)
        status, reason = "error", f"{type(exc).__name__}: {_one_line(exc)} at {traceback.format_tb(exc.__traceback__)[-1].strip()}"
    return {"case": case.case_id, "stage": stage, "status": status, "reason": reason,
            "cpu_seconds": round(time.process_time() - start, 3)}


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:400]


def _serve(conn, log_path: str) -> None:
    """A worker: run (case, stage) tasks until told to stop; native chatter goes to ``log_path``."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(fd, 2)
    while True:
        task = conn.recv()
        if task is None:
            return
        conn.send(_run(*task))


# ---------------------------------------------------------------------------- the pool (parent side)
class _Worker:
    def __init__(self, ctx, log_path: Path) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, str(log_path)), daemon=True)
        self.process.start()
        child.close()
        self.task: tuple[str, str] | None = None
        self.deadline = 0.0

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()


def run_isolated(tasks: list[tuple[str, str]], workers: int, timeout: float, log_path: Path, progress) -> list[dict]:
    """Run every task in child processes, ``workers`` at a time; crashes and hangs become results."""
    ctx = multiprocessing.get_context("spawn")
    pending = collections.deque(tasks)
    pool = [_Worker(ctx, log_path) for _ in range(min(workers, len(tasks)))]
    results = []
    while pending or any(w.task for w in pool):
        for w in pool:
            if w.task is None and pending:
                w.task = pending.popleft()
                w.deadline = time.monotonic() + timeout
                w.conn.send(w.task)
        busy = [w for w in pool if w.task]
        ready = wait([w.conn for w in busy], timeout=max(0.0, min(w.deadline for w in busy) - time.monotonic()))
        for i, w in enumerate(pool):
            if w.task is None:
                continue
            failed = None
            if w.conn in ready:
                try:
                    results.append(w.conn.recv())
                except EOFError:
                    w.process.join()
                    failed = ("crash", f"worker process died (exit code {w.process.exitcode})")
            elif time.monotonic() > w.deadline:
                failed = ("timeout", f"no result within {timeout:g} s")
            else:
                continue
            if failed:
                case_dir, stage = w.task
                results.append({"case": Path(case_dir).name, "stage": stage, "status": failed[0],
                                "reason": failed[1], "cpu_seconds": None})
                w.stop()
                pool[i] = w = _Worker(ctx, log_path)
            w.task = None
            progress(len(results))
    for w in pool:
        w.conn.send(None)
        w.process.join(timeout=5)
        w.stop()
    return results


# ---------------------------------------------------------------------------- report
def _semantic_dir(suite: Path) -> Path:
    for candidate in (suite / "cases" / "semantic", suite / "semantic", suite):
        if candidate.is_dir() and any(p.name.isdigit() for p in candidate.iterdir()):
            return candidate
    raise SystemExit(f"{suite}: no semantic cases found (expected cases/semantic/NNNNN/ in a checkout of "
                     "sbmlteam/sbml-test-suite)")


def _select(cases: list[sbml_suite.Case], spec: str | None) -> list[sbml_suite.Case]:
    if not spec:
        return cases
    wanted: set[int] = set()
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        wanted.update(range(int(lo), int(hi or lo) + 1))
    return [c for c in cases if int(c.case_id) in wanted]


def _roadrunner_limit(reason: str) -> str | None:
    for name, marker in _UNSUPPORTED_BY_ROADRUNNER.items():
        if marker in reason:
            return name
    return None


def summarize(cases: list[sbml_suite.Case], results: list[dict]) -> tuple[list[dict], dict]:
    by_case: dict[str, dict] = {c.case_id: {"case": c.case_id, "level_version": c.sbml_path().stem[-4:],
                                             "tags": " ".join(c.tags)} for c in cases}
    for r in results:
        row = by_case[r["case"]]
        row[r["stage"]] = r["status"]
        row[f"{r['stage']}_reason"] = r["reason"]
    rows = [by_case[c.case_id] for c in cases]
    passes = {s: sum(r.get(s) == "pass" for r in rows) for s in STAGES}
    original_ok = [r for r in rows if r.get("original") == "pass"]
    limits = collections.Counter(_roadrunner_limit(r.get("original_reason", "")) for r in rows
                                 if r.get("original") == "error")
    headline = {
        "cases": len(rows),
        "roadrunner_original_pass": passes["original"],
        "export_pass": passes["export"],
        "edited_export_pass": passes["edited"],
        "lost": sum(r.get("export") != "pass" for r in original_ok),
        "lost_after_edit": sum(r.get("edited") != "pass" for r in original_ok),
        "refused": sum(any(r.get(s) == "refused" for s in ("export", "edited", "engine")) for r in rows),
        "engine_pass": passes["engine"],
        "engine_unsupported": sum(r.get("engine") == "unsupported" for r in rows),
        # A wrong trajectory returned without a word, where libRoadRunner on the original does
        # not return a wrong one itself (it passes, or refuses the model).
        "engine_silent_mismatch": sum(r.get("engine") == "mismatch" and r.get("original") != "mismatch"
                                      for r in rows),
        "engine_error_where_roadrunner_passes": sum(r.get("engine") == "error" for r in original_ok),
        "not_time_course": sum(r.get("original") == "not_applicable" for r in rows),
        "roadrunner_unsupported_algebraic_rules": limits.get("algebraic rules", 0),
        "roadrunner_unsupported_delays": limits.get("delay differential equations", 0),
        "roadrunner_unsupported_fast_reactions": limits.get("fast reactions", 0),
        "crashes": sum(r["status"] == "crash" for r in results),
        "timeouts": sum(r["status"] == "timeout" for r in results),
    }
    return rows, headline


def tag_table(cases: list[sbml_suite.Case], rows: list[dict]) -> list[list]:
    table = collections.defaultdict(lambda: [0, 0, 0, 0, 0])
    for case, row in zip(cases, rows):
        for tag in case.tags:
            counts = table[tag]
            counts[0] += 1
            for i, stage in enumerate(STAGES, start=1):
                counts[i] += row.get(stage) == "pass"
    return [[tag, *counts] for tag, counts in sorted(table.items(), key=lambda kv: (-kv[1][0], kv[0]))]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", type=Path, required=True, help="checkout of sbmlteam/sbml-test-suite")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--cases", help="case numbers, e.g. 1-100,959 (default: all)")
    parser.add_argument("--workers", type=int, default=2, help="child processes (default 2)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per run (default 120)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    cases = _select(sbml_suite.list_cases(_semantic_dir(args.suite)), args.cases)
    tasks = [(str(c.directory), stage) for c in cases for stage in STAGES]
    log = args.out / "native.log"
    log.write_text("")
    started = time.monotonic()

    def progress(done: int) -> None:
        if done % 400 == 0 or done == len(tasks):
            print(f"  {done}/{len(tasks)} runs, {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)

    results = run_isolated(tasks, args.workers, args.timeout, log, progress)
    rows, headline = summarize(cases, results)
    cpu = [r["cpu_seconds"] for r in results if r["cpu_seconds"] is not None]
    headline["wall_seconds"] = round(time.monotonic() - started, 1)
    headline["cpu_seconds_in_runs"] = round(sum(cpu), 1)

    fields = ["case", "level_version", "tags"] + [f for s in STAGES for f in (s, f"{s}_reason")]
    with (args.out / "cases.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    table = tag_table(cases, rows)
    head = ["tag", "cases", "libRoadRunner original", "our export", "export after edit", "our Engine"]
    with (args.out / "tags.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([head] + table)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines.append(f"| **all cases** | {len(rows)} | {headline['roadrunner_original_pass']} | "
                 f"{headline['export_pass']} | {headline['edited_export_pass']} | {headline['engine_pass']} |")
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table]
    (args.out / "tags.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    for stage in STAGES:
        failing = collections.Counter(r.get(stage) for r in rows if r.get(stage) != "pass")
        print(f"{stage}: " + ", ".join(f"{k} {v}" for k, v in sorted(failing.items(), key=str)))
    print(json.dumps(headline))
    return headline


if __name__ == "__main__":
    main()
