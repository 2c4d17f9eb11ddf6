"""The paper's Eq. 4: how well one EPL step aligns with gradient descent on the loss.

::

    alignment = cos(dz, -grad_z* L) = -(dz . g) / (|dz| |g|)

``dz`` is the change of the learned state ``z*`` (the node amounts; momenta
are left out) that one learning step makes (input injection, response, feedback
injection, relaxation: :meth:`EplLearner.step` + :meth:`EplLearner.feed_back`);
``g`` is the gradient of the loss with respect to ``z*`` through the
equilibrium map ``z* -> z_eq(z* + I_z x) -> outputs -> L``. The gradient is
computed by central finite differences of steady states on the compiled
model (``2 n`` Newton solves for ``n`` species; the equilibrium layer's
implicit gradient computes the same derivative).

Losses, with ``o`` the outputs' equilibrium concentrations after the input:

* supervised toys: ``L = (p - y)^2 / 2``, ``p = o1 / (o0 + o1)``;
* control tasks (no target): ``L = (penalty - reward) * o_a / sum(o)``, with
  ``a`` the action the learner takes and ``(reward, penalty)`` the feedback
  that step earns: a penalised action should lose its share, a rewarded one
  gain it.

The probe is the first step of the first learning epoch after the initial
relaxation (same seeds as the evaluation).
"""

from __future__ import annotations

import numpy as np

from epl_sysbio.errors import EplSysbioError
from epl_sysbio.evolve import Genome

from .learner import EplLearner
from .tasks import Task, _GymTask, _SupervisedTask, derive_seed

__all__ = ["alignment_score", "loss_gradient", "probe_alignment", "best_learner_alignment"]


def alignment_score(dz: np.ndarray, grad: np.ndarray) -> float | None:
    """``cos(dz, -grad)``; None when either vector is zero or non-finite."""
    dz, grad = np.asarray(dz, float), np.asarray(grad, float)
    nd, ng = float(np.linalg.norm(dz)), float(np.linalg.norm(grad))
    if not (np.isfinite(nd) and np.isfinite(ng)) or nd == 0 or ng == 0:
        return None
    return float(-(dz @ grad) / (nd * ng))


def _equilibrium_outputs(learner: EplLearner, x: np.ndarray) -> np.ndarray | None:
    """Outputs at the equilibrium reached after injecting ``x`` into the current state."""
    eng = learner.engine
    eng.inject({s: float(v) for s, v in zip(learner.inputs, x) if v > 0})
    result = eng.steady_state(options=learner.steady_state_options)
    if not result.converged:
        return None
    return np.array([result.values[s] for s in learner.outputs])


def loss_gradient(learner: EplLearner, x: np.ndarray, loss, rel_step: float = 1e-6) -> np.ndarray | None:
    """Central finite-difference gradient of ``loss(outputs)`` w.r.t. the current amounts.

    Returns the gradient over the learner's non-signed species (amounts ``x``,
    not momenta), in ``engine.floating_ids`` order, or None if a steady state
    fails. The engine's state is restored afterwards (it becomes the engine's
    start state, see :meth:`Engine.set_start`).
    """
    eng = learner.engine
    ids = [s for s in eng.floating_ids if s not in learner.signed]
    eng.set_start()
    z0 = eng.amounts()
    grad = np.zeros(len(ids))
    try:
        for k, sid in enumerate(ids):
            h = rel_step * max(1.0, abs(z0[sid]))
            values = []
            for step in (h, -min(h, z0[sid])):
                eng.reset()
                eng.inject({sid: step})
                o = _equilibrium_outputs(learner, x)
                if o is None:
                    return None
                values.append(loss(o))
            span = h + min(h, z0[sid])
            grad[k] = (values[0] - values[1]) / span if span > 0 else 0.0
    finally:
        eng.reset()
    return grad


def _probe(task: Task, seed: int) -> tuple[np.ndarray, object]:
    """The first learning step's input and what is needed to score it."""
    if isinstance(task, _SupervisedTask):
        x, y = task.samples()
        i = int(np.random.default_rng(derive_seed(seed, 0, 0)).permutation(len(y))[0])
        return x[i], float(y[i])
    observation, _ = task.env.reset(seed=derive_seed(seed, 0, 0))
    return task.encode(observation), None


def probe_alignment(learner: EplLearner, task: Task, seed: int) -> float | None:
    """Eq. 4 for the first learning step of an initialised learner (see the module docstring)."""
    if not learner.ok:
        return None
    x, target = _probe(task, seed)
    eng = learner.engine
    eng.set_start()
    z0 = eng.amounts()
    if isinstance(task, _SupervisedTask):
        def loss(o: np.ndarray) -> float:
            return 0.5 * (task.predict(o) - target) ** 2

        response = learner.step(x)
        if not learner.ok:
            return None
        feedback = task.error_feedback(target - task.predict(response.activity))
    elif isinstance(task, _GymTask):
        response = learner.step(x)
        if not learner.ok:
            return None
        action = int(np.argmax(response.activity))
        _, reward, terminated, _, _ = task.env.step(action)
        feedback = task.feedback(float(reward), terminated)
        sign = float(feedback[1] - feedback[0])

        def loss(o: np.ndarray) -> float:
            total = float(np.sum(o))
            return 0.0 if total <= 0 else sign * float(o[action]) / total
    else:
        return None
    learner.feed_back(feedback)
    if not learner.ok:
        return None
    z1 = eng.amounts()
    dz = np.array([z1[s] - z0[s] for s in eng.floating_ids if s not in learner.signed])
    eng.reset()  # back to z0, where the gradient is taken
    grad = loss_gradient(learner, x, loss)
    return None if grad is None else alignment_score(dz, grad)


def best_learner_alignment(genome: Genome, seed: int, config) -> float | None:
    """Eq. 4 for a genome's learner (a fresh one, initialised), or None if it has none."""
    from .substrate import build_network, make_learner, quiet_native_stderr, task_for

    network = build_network(genome, config)
    if isinstance(network, str):
        return None
    try:
        with quiet_native_stderr():
            learner = make_learner(network, config)
            if learner.initialise() != "ok":
                return None
            return probe_alignment(learner, task_for(config.task), seed)
    except (EplSysbioError, RuntimeError):  # a probe that cannot be computed is no score, never a crash
        return None
