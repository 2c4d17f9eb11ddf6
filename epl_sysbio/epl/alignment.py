"""The paper's Eq. 4: how well one EPL step aligns with gradient descent on the loss.

::

    alignment = cos(dz, -grad_z* L) = -(dz . g) / (|dz| |g|)

``dz`` is the change of the learned state ``z*`` (the node amounts; momenta
are left out) that one learning step makes (input injection, response, feedback
injection, relaxation: :meth:`EplLearner.step` + :meth:`EplLearner.feed_back`);
``g`` is the gradient of the loss with respect to ``z*`` through the
equilibrium map ``z* -> z_eq(z* + I_z x) -> outputs -> L``: the implicit
gradient of the equilibrium layer (:class:`epl_sysbio.deq.EquilibriumLayer`,
every node amount an input (momenta keep the model's conserved totals), the output
concentrations its outputs; ``out.d_inputs`` chained with ``dL/do``). The
layer is built once per learner; where it refuses (no stable steady state,
singular reduced Jacobian) there is no score.

Each task defines its loss ``L(o)``, ``o`` the outputs' equilibrium
concentrations after the input, and makes the probed step, the first step of
the first learning epoch after the initial relaxation (same seeds as the
evaluation): :meth:`~.tasks.Task.alignment_probe`. A task without a loss (the
lifetime tasks) has no score.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from epl_sysbio.deq import EquilibriumLayer, LayerOptions
from epl_sysbio.errors import EplSysbioError
from epl_sysbio.model import Model

from .learner import EplLearner
from .tasks import Task

__all__ = [
    "LossGradient", "alignment_score", "equilibrium_layer", "loss_gradient", "network_alignment", "node_inputs",
    "probe_alignment",
]


def alignment_score(dz: np.ndarray, grad: np.ndarray) -> float | None:
    """``cos(dz, -grad)``; None when either vector is zero or non-finite."""
    dz, grad = np.asarray(dz, float), np.asarray(grad, float)
    nd, ng = float(np.linalg.norm(dz)), float(np.linalg.norm(grad))
    if not (np.isfinite(nd) and np.isfinite(ng)) or nd == 0 or ng == 0:
        return None
    return float(-(dz @ grad) / (nd * ng))


def equilibrium_layer(learner: EplLearner, model: Model, params: Sequence[str] = ()) -> EquilibriumLayer:
    """The equilibrium layer of a learner's network: node amounts in, output concentrations out.

    Every floating species except the momenta (signed species) is an input.
    The momenta start at the model's initial values: injections go into nodes
    only and the momentum reactions conserve ``p_a + p_b``, so the layer's
    state has the learner's conserved totals (and with friction the
    equilibrium has ``p = 0`` whatever the start). Built once per learner (it
    compiles an augmented copy of ``model``); the learner's tolerances,
    stability judged on the exact reduced Jacobian. ``params`` are trainable
    global parameters (e.g. the potentials ``a_*``).
    """
    options = LayerOptions(steady_state=dataclasses.replace(learner.options.steady_state_options, stability=True))
    nodes = [s for s in learner.dynamics.ids if s not in learner.signed]
    return EquilibriumLayer(model, inputs=nodes, outputs=[f"[{s}]" for s in learner.outputs], params=list(params),
                            options=options)


def node_inputs(layer: EquilibriumLayer, learner: EplLearner, x: np.ndarray) -> np.ndarray:
    """Layer inputs: the learner's current amounts with ``x`` injected into its input nodes (a row per row of ``x``)."""
    x = np.atleast_2d(np.asarray(x, float))
    amounts = learner.learned_state()
    z = np.tile([amounts[s] for s in layer.input_ids], (x.shape[0], 1))
    column = [layer.input_ids.index(s) for s in learner.inputs]
    z[:, column] += np.maximum(x, 0.0)  # as EplLearner.step injects
    return z


@dataclass(frozen=True)
class LossGradient:
    """``grad_z* L`` over the learner's node amounts (``ids``, momenta left out), or None with the reason."""

    ids: tuple[str, ...]
    gradient: np.ndarray | None
    reason: str = ""


def loss_gradient(layer: EquilibriumLayer, learner: EplLearner, x: np.ndarray, loss_grad) -> LossGradient:
    """Implicit gradient of ``L(outputs)`` w.r.t. the learner's current amounts ``z*``.

    The layer solves the equilibrium from ``z* + I x`` (``x`` injected into the
    input nodes) and returns ``d outputs / d z*`` by the implicit function
    theorem; ``loss_grad(o)`` is ``dL/do``. The learner's engine is not
    touched.
    """
    out = layer.forward(node_inputs(layer, learner, x), gradient=True)
    if not out.ok[0]:
        return LossGradient(layer.input_ids, None, f"equilibrium layer: {out.status[0].value}: {out.messages[0]}")
    return LossGradient(layer.input_ids, np.asarray(loss_grad(out.values[0]), float) @ out.d_inputs[0])


def probe_alignment(learner: EplLearner, task: Task, seed: int, layer: EquilibriumLayer) -> float | None:
    """Eq. 4 for the first learning step of an initialised learner (see the module docstring).

    ``layer`` is :func:`equilibrium_layer` of the learner's network.
    """
    if not learner.ok:
        return None
    start = learner.snapshot()
    z0 = learner.learned_state()
    probe = task.alignment_probe(learner, seed)  # the step: input, response, feedback
    if probe is None or not learner.ok:
        return None
    x, loss_grad = probe
    z1 = learner.learned_state()
    learner.restore(start)  # back to z0, where the gradient is taken
    grad = loss_gradient(layer, learner, x, loss_grad)
    if grad.gradient is None:
        return None
    return alignment_score(np.array([z1[s] - z0[s] for s in grad.ids]), grad.gradient)


def network_alignment(network, seed: int, config) -> float | None:
    """Eq. 4 for a fresh, initialised learner of ``network`` (a :class:`~.substrate.LearnerNetwork`),
    probed on ``config``'s task with ``seed``; None where no score can be computed."""
    from .substrate import make_learner, quiet_native_stderr, task_for

    try:
        with quiet_native_stderr():
            learner = make_learner(network, config)
            if learner.initialise() != "ok":
                return None
            layer = equilibrium_layer(learner, network.model)
            return probe_alignment(learner, task_for(config.task), seed, layer)
    except (EplSysbioError, RuntimeError):  # a probe that cannot be computed is no score, never a crash
        return None
