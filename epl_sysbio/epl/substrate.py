"""From a CPPN genome to an EPL learner: expression, node roles, SBML, engine, evaluation.

The pipeline of one evaluation::

    genome --compile_genome--> CPPN --express_substrate (Algorithm 2)--> RdsSpec
      --assign_roles--> LearnerNetwork (spec with roles, role ids)
      --spec_to_model--> SBML Model --Engine--> EplLearner --evaluate_learner--> LearnerReport

Role rule (:func:`assign_roles`): take the largest connected component of
the node graph (a reaction joins its three nodes, a diffusion or Hamiltonian
edge its two; the first found on ties) and order its nodes by (space, gene)
in the spec's order; the first ``n_inputs`` are the inputs, the last
``n_outputs`` the outputs, and the ``n_feedback`` just before the outputs the
feedback nodes. Inputs thus sit in the first spaces and outputs in the last,
and every role node is connected to every other. A network whose largest
component has fewer nodes than the task needs is not built: the evaluation
reports status ``too_small`` and the worst fitness.

Size (for the fitness' size cost) is nodes + edges (reactions, diffusion and
Hamiltonian edges).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from epl_sysbio.dynamics import RdsSpec, spec_from_dict, spec_to_dict, spec_to_model
from epl_sysbio.errors import EplSysbioError
from epl_sysbio.evolve import Genome, compile_genome, genome_to_dict
from epl_sysbio.evolve.checkpoint import atomic_write
from epl_sysbio.model import Model
from epl_sysbio.simulate import Engine

from .backends import NativeDynamics
from .expression import express_substrate
from .fitness import WORST_FITNESS, LearnerReport, evaluate_learner
from .learner import EplLearner
from .registry import make_task
from .tasks import Task, TaskConfig

__all__ = ["LearnerNetwork", "GenomeEvaluation", "assign_roles", "build_network", "make_learner", "evaluate_genome",
           "evaluate_genome_fully", "network_from_info", "export_champion", "recheck_on_roadrunner", "task_for",
           "fast_compile", "quiet_native_stderr"]


@dataclass(frozen=True)
class LearnerNetwork:
    """A network ready for a learner: its spec (with roles), the role species ids, and its SBML model.

    The model is generated when first asked for: the native backend never needs it.
    """

    spec: RdsSpec
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    feedback: tuple[str, ...]

    @functools.cached_property
    def model(self) -> Model:
        """The SBML model of :attr:`spec` (:func:`~epl_sysbio.dynamics.spec_to_model`)."""
        return spec_to_model(self.spec)

    @property
    def size(self) -> int:
        s = self.spec
        return len(s.nodes) + len(s.reactions) + len(s.diffusion) + len(s.hamiltonian)


@functools.lru_cache(maxsize=8)
def task_for(config: TaskConfig) -> Task:
    """One task object (and gymnasium environment) per config and process."""
    return make_task(config)


def _components(spec: RdsSpec) -> list[list[int]]:
    """Connected components of the node graph (reactions join their three nodes; transport edges their two)."""
    index = spec.node_index
    parent = list(range(len(spec.nodes)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(keys) -> None:
        ids = [index[k] for k in keys]
        for i in ids[1:]:
            parent[find(i)] = find(ids[0])

    for r in spec.reactions:
        join([(g, r.space) for g in r.reactants + (r.product,)])
    for e in spec.diffusion + spec.hamiltonian:
        join([(e.gene, e.a), (e.gene, e.b)])
    groups: dict[int, list[int]] = {}
    for i in range(len(spec.nodes)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def assign_roles(spec: RdsSpec, n_inputs: int, n_outputs: int, n_feedback: int) -> LearnerNetwork | str:
    """The network of ``spec`` with roles by the rule of the module docstring, or a reason string if it is too small.

    The role ids of the network are in role order (by space, then gene).
    """
    spaces = {s.name: i for i, s in enumerate(spec.spaces)}
    genes = {g.name: i for i, g in enumerate(spec.genes)}
    # the largest connected component (first found on ties), by (space, gene)
    order = sorted(max(_components(spec), key=len),
                   key=lambda i: (spaces[spec.nodes[i].space], genes[spec.nodes[i].gene]))
    need = n_inputs + n_outputs + n_feedback
    if len(order) < need:
        return (f"the largest connected part of the network has {len(order)} nodes; the task needs {need} "
                f"({n_inputs} input, {n_feedback} feedback, {n_outputs} output)")
    last = len(order) - n_outputs
    groups = {"input": order[:n_inputs], "feedback": order[last - n_feedback:last], "output": order[last:]}
    roles = {i: (role,) for role, ids in groups.items() for i in ids}
    spec = dataclasses.replace(spec, nodes=tuple(dataclasses.replace(n, roles=roles.get(i, ()))
                                                 for i, n in enumerate(spec.nodes)))
    ids = {role: tuple(spec.nodes[i].species_id for i in nodes) for role, nodes in groups.items()}
    return LearnerNetwork(spec, ids["input"], ids["output"], ids["feedback"])


def build_network(genome: Genome, config) -> LearnerNetwork | str:
    """The learner network a genome expresses under ``config`` (an :class:`EplJobConfig`), or why there is none."""
    cppn = compile_genome(genome, recurrent=config.neat.recurrent, steps=config.neat.recurrent_steps,
                          sigmoid_slope=config.neat.sigmoid_slope)
    spec = express_substrate(cppn, config.substrate, name="epl_learner")
    if spec is None:
        return "the CPPN expressed no nodes"
    task = task_for(config.task)
    return assign_roles(spec, task.n_inputs, task.n_outputs, task.n_feedback)


def _stopped(status: str, message: str) -> LearnerReport:
    return LearnerReport(fitness=WORST_FITNESS, performance=0.0, epoch_scores=(), eval_scores=(), steps_to_goal=None,
                         learning_steps=0, size=0, status=status, message=message)


@contextlib.contextmanager
def fast_compile():
    """Compile with libRoadRunner's LLJIT backend at optimisation level 0, then restore the settings.

    Measured on expressed networks of the default preset (benchmarks/epl_compile.py):
    an Engine (compile + moiety recompile) is built about 3x faster than with
    the default MCJIT, and the compiled model runs as fast.
    """
    import roadrunner

    c = roadrunner.Config
    old = (c.getValue(c.LLVM_BACKEND), c.getValue(c.LLJIT_OPTIMIZATION_LEVEL))
    c.setValue(c.LLVM_BACKEND, c.LLJIT)
    c.setValue(c.LLJIT_OPTIMIZATION_LEVEL, 0)
    try:
        yield
    finally:
        c.setValue(c.LLVM_BACKEND, old[0])
        c.setValue(c.LLJIT_OPTIMIZATION_LEVEL, old[1])


def make_learner(network: LearnerNetwork, config, *, backend: str | None = None) -> EplLearner:
    """A fresh learner of ``network`` on ``backend`` (default ``config.learner.backend``).

    ``"native"``: the compiled kernel reads the spec (nothing is compiled);
    ``"roadrunner"``: a newly compiled engine of the network's SBML model
    (momenta are its signed species).
    """
    options = config.learner
    backend = backend or options.backend
    if backend == "native":
        return EplLearner(NativeDynamics(network.spec, options.tolerances), network.inputs, network.outputs,
                          network.feedback, options)
    with fast_compile():
        engine = Engine(network.model)
    floating = set(engine.floating_ids)
    signed = tuple(n.momentum_id for n in network.spec.nodes if n.momentum_id in floating)
    return EplLearner(engine, network.inputs, network.outputs, network.feedback, options, signed=signed)


@contextlib.contextmanager
def quiet_native_stderr():
    """Send file descriptor 2 to /dev/null for the duration (then restore it).

    SUNDIALS prints every failed CVODE step of a diverging candidate network
    straight to fd 2; those failures are reported as learner statuses instead.
    """
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


#: Responses whose output traces an evaluation keeps (what the trace plot shows).
TRACED_RESPONSES = 300


@dataclass(frozen=True)
class GenomeEvaluation:
    """One evaluation: its report, the network it built (None if none), the learned state the lifetime left
    (None if the learner stopped) and the output traces of its first :data:`TRACED_RESPONSES` responses."""

    report: LearnerReport
    network: LearnerNetwork | None = None
    learned_state: dict[str, float] | None = None
    traces: tuple[np.ndarray, ...] = ()

    def to_info(self) -> dict:
        """Plain data (JSON-ready but for the trace arrays) for the generation loop's reporters."""
        net = self.network
        return {"report": self.report.to_dict(), "learned_state": self.learned_state, "traces": list(self.traces),
                "network": None if net is None else {"spec": spec_to_dict(net.spec), "inputs": list(net.inputs),
                                                      "outputs": list(net.outputs), "feedback": list(net.feedback)}}


def network_from_info(data: dict) -> LearnerNetwork:
    """The network of :meth:`GenomeEvaluation.to_info`'s ``"network"`` entry."""
    return LearnerNetwork(spec_from_dict(data["spec"]), tuple(data["inputs"]), tuple(data["outputs"]),
                          tuple(data["feedback"]))


def evaluate_genome(genome: Genome, seed: int, config, *, traces: list | None = None) -> LearnerReport:
    """Fitness and details of one genome (pure in ``(genome, seed, config)``).

    A network that cannot be built (too small) or compiled gets the worst
    fitness with the reason; numerical failures inside learning are the
    learner's status (see :class:`EplLearner`). ``traces`` receives every
    response's output trace.
    """
    return evaluate_genome_fully(genome, seed, config, traces=traces).report


def evaluate_genome_fully(genome: Genome, seed: int, config, *, traces: list | None = None) -> GenomeEvaluation:
    """:func:`evaluate_genome` with the network, the learned state and the first responses' traces."""
    traces = [] if traces is None else traces
    with quiet_native_stderr():
        network = build_network(genome, config)
        if isinstance(network, str):
            return GenomeEvaluation(_stopped("too_small", network))
        try:
            learner = make_learner(network, config)
        except EplSysbioError as exc:
            return GenomeEvaluation(_stopped("failed", f"could not compile the network: {exc}"), network)
        try:
            report = evaluate_learner(learner, task_for(config.task), seed, size=network.size,
                                      weights=config.fitness, traces=traces)
        except (EplSysbioError, RuntimeError) as exc:  # a numerical failure is a status, never a crash
            return GenomeEvaluation(_stopped("failed", f"{type(exc).__name__} after {learner.steps} steps: {exc}"),
                                    network)
        return GenomeEvaluation(report, network, learner.learned_state() if learner.ok else None,
                                tuple(traces[:TRACED_RESPONSES]))


def recheck_on_roadrunner(learned_state: dict[str, float], network: LearnerNetwork) -> dict:
    """Re-solve a learned state on libRoadRunner from the same conserved totals.

    The learned amounts are written into an :class:`Engine` of the network's
    SBML model (so its conserved totals are the learner's) and the engine
    solves the steady state; returns the engine's status and the largest
    difference, absolute and relative to the largest amount.
    """
    engine = Engine(network.model)
    amounts = np.array([learned_state[s] for s in engine.floating_ids])
    engine.write_amounts(amounts)
    result = engine.steady_state(start="current")
    out: dict = {"engine": "libroadrunner", "status": result.status.value, "method": result.method.value}
    if result.values:
        solved = np.array([result.values[s] for s in engine.floating_ids])
        diff = float(np.abs(solved - amounts).max())
        out.update(max_abs_diff=diff, max_rel_diff=diff / float(np.abs(amounts).max()))
    return out


def export_champion(genome: Genome, info: dict, seed: int, config, directory: Path) -> dict[str, Path]:
    """Write the champion as SBML, Antimony, OMEX (with a SED-ML steady-state task), its genome and its report.

    ``info`` is what the champion's evaluation recorded (:meth:`GenomeEvaluation.to_info`,
    without the traces): the network is written as it was evaluated and its
    learned state re-solved by libRoadRunner from the same conserved totals
    (:func:`recheck_on_roadrunner`); ``learner.json`` holds the roles, the
    report, the learned state and the difference under ``"recheck"``.
    """
    from .export import export_network

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write(directory / "genome.json", json.dumps(genome_to_dict(genome), indent=1).encode())
    if info.get("network") is None:
        atomic_write(directory / "README.txt", "The best genome expresses no learner network: "
                     f"{info['report']['message']}\n".encode())
        return {}
    network = network_from_info(info["network"])
    paths = export_network(network.model, directory)
    learned = info.get("learned_state")
    with quiet_native_stderr():
        recheck = recheck_on_roadrunner(learned, network) if learned is not None else \
            {"status": f"learner {info['report']['status']}"}
    roles = {"inputs": list(network.inputs), "outputs": list(network.outputs), "feedback": list(network.feedback)}
    atomic_write(directory / "learner.json", json.dumps({
        "roles": roles, "seed": seed, "backend": config.learner.backend, "report": info["report"],
        "learned_state": learned, "recheck": recheck}, indent=1).encode())
    return paths
