"""The ``epl-sysbio`` command.

Exit codes: 0 ok; 1 the model is invalid, or the steady state did not converge
or is not stable, or the ``--timeout`` budget ran out; 2 bad input (unreadable
model, unknown id, bad value, a model that crashes a native library); 130
interrupted. Model commands run in a child process with a budget, and no
failure prints a traceback (:mod:`epl_sysbio.cli_guard`).

A model argument is a file (SBML ``.xml``, Antimony ``.ant``, COMBINE archive
``.omex``) or the name of a bundled model (``epl-sysbio models`` lists them).
Heavy libraries (libRoadRunner, libsbml, NumPy, matplotlib) are imported inside
the commands that need them, so ``--help`` and ``--version`` start at once.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from epl_sysbio import __version__, models
from epl_sysbio.cli_guard import (
    EXIT_FAILED,
    EXIT_OK,
    add_budget_argument,
    add_model_arguments,
    guarded_main,
    model_options,
    run_model_command,
)
from epl_sysbio.errors import InvalidValueError, ModelFileNotFoundError

_DEFAULT_DEMO_MODEL = "phosphorylation_cycle_neuron"


def _model_path(text: str) -> Path:
    """A model argument: an existing file, else a bundled model's name (module docstring)."""
    path = Path(text)
    if path.exists() or path.suffix or len(path.parts) > 1:
        return path
    if text in models.names():
        return models.path(text)
    raise ModelFileNotFoundError(
        f"{text!r} is neither a file nor a bundled model. Bundled models: {', '.join(models.names())} "
        "(`epl-sysbio models` shows their paths); otherwise give the path of a .xml, .ant or .omex file.")


def _parse_assignment(text: str) -> tuple[str, float]:
    sid, sep, value = text.partition("=")
    if not sep or not sid.strip():
        raise InvalidValueError(f"--set expects id=value (e.g. --set u=2). Got {text!r}.")
    try:
        number = float(value)
    except ValueError:
        raise InvalidValueError(f"--set {sid.strip()}: {value!r} is not a number.") from None
    return sid.strip(), number


def _cmd_validate(args: argparse.Namespace) -> int:
    from epl_sysbio.model import load_model

    model = load_model(_model_path(args.model), validate=False, **model_options(args))
    report = model.validate(units=args.units)
    print(f"{args.model}: {report}")
    return EXIT_OK if report.ok else EXIT_FAILED


def _cmd_convert(args: argparse.Namespace) -> int:
    from epl_sysbio.model import load_model

    from epl_sysbio.files import atomic_write_text

    model = load_model(_model_path(args.model), **model_options(args))
    if args.to == "omex":
        from epl_sysbio.epl.export import write_omex

        if not args.output:
            raise InvalidValueError("convert --to omex writes a zip archive: give the file with -o ARCHIVE.omex.")
        print(f"wrote {write_omex(model, args.output)}", file=sys.stderr)
        return EXIT_OK
    text = model.to_sbml() if args.to == "sbml" else model.to_antimony()
    if args.output:
        atomic_write_text(args.output, text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _cmd_steady(args: argparse.Namespace) -> int:
    from epl_sysbio.model import load_model
    from epl_sysbio.simulate import Engine

    assignments = dict(_parse_assignment(a) for a in args.set or [])
    engine = Engine(load_model(_model_path(args.model), **model_options(args)))
    result = engine.steady_state(assignments)
    if args.format == "json":
        print(json.dumps(result.to_dict(), allow_nan=False))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(["id", "value"])
        for sid, value in result.values.items():
            writer.writerow([sid, repr(value)])
    else:
        print(f"model    {result.model}")
        print(f"status   {result.status.value}  ({result.message})")
        print(f"method   {result.method.value}")
        print(f"residual {result.residual:.3e}")
        if result.max_real_eigenvalue is not None:
            print(f"max Re(eigenvalue) {result.max_real_eigenvalue:.6g}")
        width = max((len(s) for s in result.values), default=2)
        for sid, value in result.values.items():
            print(f"  {sid:<{width}}  {value:.10g}")
    return EXIT_OK if result.stable else EXIT_FAILED


def _cmd_analyze(args: argparse.Namespace) -> int:
    from epl_sysbio.analysis.continuation_diagram import parse_continuation, parse_continuation2
    from epl_sysbio.analysis.continuation_report import prepare_model, run_continuations
    from epl_sysbio.analysis.report import analyze_model, write_report
    from epl_sysbio.analysis.scan import parse_scan
    from epl_sysbio.model import load_model

    scans = [parse_scan(s) for s in args.scan or []]
    one = [parse_continuation(s) for s in args.continue_ or []]
    two = [parse_continuation2(s) for s in args.continue2 or []]
    model = load_model(_model_path(args.model), **model_options(args))
    if one or two:
        model = prepare_model(model, [p for p, _ in one] + [p for ps, _ in two for p in ps])
    report, engine = analyze_model(model, scans=scans, seed=args.seed)
    summary, sections = report.summary(), []
    if one or two:
        found, sections = run_continuations(engine, one, two, Path(args.report) if args.report else None)
        summary.update(found)
    if args.report:
        print(f"wrote {write_report(report, Path(args.report), sections=sections)}", file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.format == "json":
        print(json.dumps(summary, default=str))
    else:
        print("\n".join([report.text(), *_continuation_text(summary)]))
    return EXIT_OK if report.stable else EXIT_FAILED


def _continuation_text(summary: dict) -> list[str]:
    """The special points of ``--continue``/``--continue2`` (folds LP, Hopf H, cusp CP, BT, ...), one a line."""
    lines = []
    for key, what in (("continuation", "continuation"), ("continuation2", "two-parameter continuation")):
        for item in summary.get(key, []):
            names = item.get("parameters") or [item.get("parameter")]
            lines.append(f"{what} in {', '.join(names)}: {len(item['special_points'])} special points")
            for point in item["special_points"]:
                where = ", ".join(f"{k} = {point[k]:.8g}" for k in names if k in point)
                extra = "".join(f", {k} {point[k]}" for k in ("criticality", "note") if k in point)
                lines.append(f"  {point['type']} at {where}{extra}")
    return lines


def _cmd_demo(args: argparse.Namespace) -> int:
    from epl_sysbio.demo import run_demo

    summary = run_demo(_model_path(args.model), Path(args.out), **model_options(args))
    print(json.dumps(summary))
    return EXIT_OK


def _cmd_models(args: argparse.Namespace) -> int:
    for name in models.names():
        print(f"{name:<30} {models.path(name)}")
    return EXIT_OK


def _cmd_sedml(args: argparse.Namespace) -> int:
    from epl_sysbio.simulate.sedml import run_omex

    out = Path(args.out)
    runs = run_omex(args.archive, out=out)
    for run in runs:
        for note in run.notes:
            print(f"note: {run.source}: {note}", file=sys.stderr)
        for report in run.reports:
            print(f"{run.source}: report {report.id}: {report.values.shape[0]} rows x {len(report.labels)} columns")
        for path in run.files:
            print(f"wrote {path}", file=sys.stderr)
    return EXIT_OK if all(run.ok for run in runs) else EXIT_FAILED


def _cmd_xor(args: argparse.Namespace) -> int:
    from epl_sysbio.evolve import EvolveConfig, evolve, load_config, resume, xor_fitness
    from epl_sysbio.evolve.config import read_config_text

    out = Path(args.out)
    if args.config:
        read_config_text(args.config)  # unreadable or not UTF-8: a ConfigError naming the file
    if args.resume:
        result = resume(out, xor_fitness, generations=args.generations)
    else:
        config = load_config(args.config) if args.config else EvolveConfig()
        run = {k: v for k, v in (("seed", args.seed), ("executor", args.executor),
                                 ("scheduler", args.scheduler), ("generations", args.generations)) if v is not None}
        if args.scheduler:
            run["executor"] = "dask"
        result = evolve(xor_fitness, config.replace(run=run), run_dir=out)
    summary = {
        "solved": result.solved,
        "generations": result.generations,
        "evaluations": result.evaluations,
        "best_fitness": result.best_fitness,
        "run_dir": str(out),
    }
    print(json.dumps(summary))
    return EXIT_OK if result.solved else EXIT_FAILED


def _cmd_evolve(args: argparse.Namespace) -> int:
    from epl_sysbio.epl.config import load_job_config, preset
    from epl_sysbio.epl.job import run_job
    from epl_sysbio.evolve.config import read_config_text

    if args.config:
        read_config_text(args.config)  # unreadable or not UTF-8: a ConfigError naming the file
        config = load_job_config(args.config, base=preset(args.preset or "default"))
    elif args.preset or not args.resume:
        config = preset(args.preset or "default")
    else:  # resume under the run's own config
        config = load_job_config(Path(args.out) / "config.toml")
    if args.generations is not None:
        config = config.replace(run={"generations": args.generations})
    print(f"epl-sysbio evolve: {config.task.name}, population {config.neat.population_size}, "
          f"{config.run.generations} generations -> {args.out}", file=sys.stderr)
    try:
        result = run_job(config, args.out, force=args.force, resume_run=args.resume)
    except KeyboardInterrupt:
        print(f"epl-sysbio evolve: stopped; continue with: epl-sysbio evolve {' '.join(_resume_args(args))}",
              file=sys.stderr)
        raise
    print(f"results: {result.run_dir}/summary.json, logbook.csv, plots/, best/", file=sys.stderr)
    print(json.dumps({**result.summary, "run_dir": str(result.run_dir)}))
    return EXIT_OK


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from epl_sysbio.epl.held_out import evaluate_champion, load_champion
    from epl_sysbio.evolve import ProcessExecutor

    if args.workers < 1:
        raise InvalidValueError(f"--workers must be an int >= 1. Got {args.workers} instead.")
    champion = load_champion(args.run_dir)
    executor = ProcessExecutor(workers=args.workers) if args.workers > 1 else None
    try:
        evaluations, about = evaluate_champion(champion, task=args.task, lifetimes=args.lifetimes, seed=args.seed,
                                               ablations=(args.ablation,), executor=executor)
    finally:
        if executor is not None:
            executor.close()
    result = {**about, **evaluations[args.ablation].summary()}
    if args.format == "json":
        print(json.dumps(result, allow_nan=False))
    else:
        print(f"{result['task']}: champion of generation {result['generation']} ({args.run_dir}), "
              f"ablation {result['ablation']}")
        print(f"  {result['lifetimes']} held-out lifetimes (seed {result['seed']}, "
              f"{result['skipped_seeds']} seeds used in evolution skipped)")
        print(f"  mean score {result['mean_score']:.2f} +- {result['sem']:.2f} (SEM); learning speed "
              f"{result['learning_speed']:.2f} trials; criterion met in {100 * result['reached_fraction']:.1f} % "
              f"of lifetimes; {result['stopped']} stopped")
    return EXIT_OK


def _resume_args(args: argparse.Namespace) -> list[str]:
    """The evolve arguments that continue this run."""
    parts = [args.config] if args.config else []
    parts += ["--preset", args.preset] if args.preset else []
    return parts + ["--out", str(args.out), "--resume"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="epl-sysbio",
        description="Equilibrium Point Learning for systems biology: SBML models, steady states, evolution. "
                    "MODEL arguments take a .xml/.ant/.omex file or a bundled model's name (see `models`).",
    )
    parser.add_argument("--version", action="version", version=f"epl-sysbio {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="libsbml consistency checks of an SBML or Antimony model")
    p.add_argument("model", help="model file (.xml/.sbml SBML, .ant/.antimony/.txt Antimony, .omex archive) "
                                 "or bundled model name")
    p.add_argument("--units", action="store_true", help="also check unit consistency")
    add_model_arguments(p, "validate")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("convert", help="convert a model to SBML L3V2, Antimony, or a COMBINE/OMEX archive (SBML + "
                                       "a SED-ML steady-state task)")
    p.add_argument("model")
    p.add_argument("--to", choices=["sbml", "antimony", "omex"], required=True)
    p.add_argument("-o", "--output", help="write here instead of standard output")
    add_model_arguments(p, "convert")
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser("steady", help="steady state of a model (exit 1 unless stable)")
    p.add_argument("model")
    p.add_argument("--set", action="append", metavar="ID=VALUE",
                   help="set a parameter, species amount, [species] concentration or compartment first")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    add_model_arguments(p, "steady")
    p.set_defaults(func=_cmd_steady)

    p = sub.add_parser("analyze", help="steady-state analysis: stability, control coefficients, scans (exit 1 unless stable)")
    p.add_argument("model")
    p.add_argument("--scan", action="append", metavar="ID=LO:HI:N", help="1-D continuation scan (up and down)")
    p.add_argument("--continue", dest="continue_", action="append", metavar="ID=LO:HI",
                   help="pseudo-arclength continuation of the steady state in a parameter: folds, Hopf points "
                        "(reaction-local parameters as <reaction>_<id>)")
    p.add_argument("--continue2", action="append", metavar="P,Q=PLO:PHI,QLO:QHI",
                   help="two-parameter continuation of the folds and Hopf points found in P (cusp, Bogdanov-Takens)")
    p.add_argument("--report", metavar="DIR", help="write report.md and PNGs here")
    p.add_argument("--seed", type=int, default=0, help="seed of the multi-start search")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="text: kind, leading eigenvalues, largest control coefficients; json: one summary object")
    add_model_arguments(p, "analyze")
    p.set_defaults(func=_cmd_analyze)

    p = sub.add_parser("xor", help="NEAT on the XOR benchmark with the generation loop (exit 1 unless solved)")
    p.add_argument("--config", help="TOML with [neat] and [run] sections (defaults: the NEAT paper's)")
    p.add_argument("--out", default="runs/xor", help="run directory (config, logbook, checkpoints, plots)")
    p.add_argument("--seed", type=int)
    p.add_argument("--generations", type=int)
    p.add_argument("--executor", choices=["serial", "processes", "dask"])
    p.add_argument("--scheduler", metavar="ADDRESS", help="existing Dask scheduler (implies --executor dask)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its newest checkpoint")
    p.set_defaults(func=_cmd_xor)

    p = sub.add_parser("evolve", help="HyperNEAT over EPL learners (the main job): writes a run directory")
    p.add_argument("config", nargs="?", help="TOML with any of [neat] [run] [task] [learner] [substrate] [fitness]; "
                                             "keys it leaves out keep the preset's values")
    p.add_argument("--preset", help="default (quick CartPole, `make run`), paper, frozenlake-paper, smoke; lifetime "
                                    "tasks: bandit2, bandit5, cartpole-reversal, lifetime-smoke")
    p.add_argument("--out", default="runs/evolve", help="run directory")
    p.add_argument("--generations", type=int, help="override [run] generations (also to extend a resumed run)")
    p.add_argument("--force", action="store_true", help="replace an existing run in --out")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its newest checkpoint")
    p.set_defaults(func=_cmd_evolve)

    p = sub.add_parser("evaluate", help="score a run's champion on fresh (held-out) lifetimes, optionally ablated")
    p.add_argument("run_dir", help="run directory of `epl-sysbio evolve`")
    p.add_argument("--task", help="evaluate on this task instead of the run's (roles re-assigned)")
    p.add_argument("--lifetimes", type=int, default=1000, help="held-out lifetimes (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the held-out lifetimes (seeds evolution used are "
                                                      "skipped)")
    p.add_argument("--ablation", choices=["none", "off", "shuffled", "reset"], default="none",
                   help="off: feedback 0; shuffled: another lifetime's feedback; reset: state reset before every step")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1: this process)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("demo", help="input-response sweep of a bundled neuron model")
    p.add_argument("--model", default=_DEFAULT_DEMO_MODEL, help="file or bundled model name with parameter u "
                                                              "and species Xp")
    p.add_argument("--out", default="runs/demo")
    add_model_arguments(p, "demo")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("models", help="list the bundled models and where they are installed")
    p.set_defaults(func=_cmd_models)

    p = sub.add_parser("sedml", help="run the SED-ML tasks of a COMBINE/OMEX archive; reports as CSV, plots as PNG "
                                     "(exit 1 if a steady state was not found)")
    p.add_argument("archive", help=".omex file")
    p.add_argument("--out", required=True, help="directory for <sedml>_<report>.csv and <sedml>_<plot>.png")
    add_budget_argument(p, "sedml")
    p.set_defaults(func=_cmd_sedml)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if hasattr(args, "timeout"):  # a model command: isolated, with a budget
        return guarded_main(args.command, lambda: run_model_command(args.func, args))
    return guarded_main(args.command, lambda: args.func(args))


if __name__ == "__main__":
    sys.exit(main())
