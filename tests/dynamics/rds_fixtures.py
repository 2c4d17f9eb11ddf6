"""Shared specs, fixtures and helpers of the dynamics tests.

Imported by name (pytest puts test directories on sys.path). Not a conftest.py: a second
module named ``conftest`` would shadow tests/conftest.py for ``from conftest import ...``.
"""

from __future__ import annotations

import numpy as np
import pytest

from epl_sysbio.dynamics import (
    Component,
    Diffusion,
    Gene,
    HamiltonianEdge,
    Node,
    RdsSpec,
    Reaction,
    Space,
    SpaceLink,
    spec_to_model,
)
from epl_sysbio.simulate import Engine


def small_spec(*, friction: float = 0.4, reservoir: float = 0.5) -> RdsSpec:
    """Three spaces, charged components, one reaction, one diffusion and one Hamiltonian edge, a reservoir."""
    cells = [("A", "out"), ("A", "mem"), ("A", "ins"), ("B", "ins"), ("AB", "ins"), ("B", "mem"), ("AB", "mem")]
    return RdsSpec(
        name="small",
        components=(Component(name="a", mass=1.0, charge=1.0), Component(name="b", mass=2.0, charge=-1.0)),
        genes=(Gene(name="A", composition={"a": 1}, potential=0.1), Gene(name="B", composition={"b": 1}),
               Gene(name="AB", composition={"a": 1, "b": 1}, potential=-0.5)),
        spaces=(Space(name="out"), Space(name="mem"), Space(name="ins")),
        links=(SpaceLink(a="out", b="mem", distance=1.0), SpaceLink(a="mem", b="ins", distance=2.0)),
        nodes=tuple(Node(gene=g, space=s, initial_amount=1.0 + 0.1 * i, friction=friction,
                         reservoir=reservoir if (g, s) == ("AB", "mem") else 0.0,
                         roles=("input",) if (g, s) == ("A", "out") else ())
                    for i, (g, s) in enumerate(cells)),
        reactions=(Reaction(reactants=("A", "B"), product="AB", space="ins", rate=0.7),),
        diffusion=(Diffusion(gene="A", a="out", b="mem", rate=1.3),),
        hamiltonian=(HamiltonianEdge(gene="A", a="mem", b="ins", rate=0.9),),
    )


@pytest.fixture
def spec() -> RdsSpec:
    return small_spec()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261122)


def compiled_rates(spec: RdsSpec, x: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """libRoadRunner's dx/dt and dp/dt (momentum nodes only) of the generated model at (x, p)."""
    # Unreduced: states are written whole (momenta may be negative, which Engine.set_amounts refuses).
    engine = Engine(spec_to_model(spec), conserved_moiety_analysis=False)
    index = {s: i for i, s in enumerate(engine.floating_ids)}
    amounts = np.zeros(len(index))
    mom = list(spec.momentum_nodes)
    for i, node in enumerate(spec.nodes):
        amounts[index[node.species_id]] = x[i]
    for i in mom:
        amounts[index[spec.nodes[i].momentum_id]] = p[i]
    engine.roadrunner.model.setFloatingSpeciesAmounts(amounts)
    rates = engine.rates_of_change()  # compartments have size 1: concentration rates = amount rates
    dx = np.array([rates[index[n.species_id]] for n in spec.nodes])
    dp = np.array([rates[index[spec.nodes[i].momentum_id]] for i in mom])
    return dx, dp


def random_state(spec: RdsSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = len(spec.nodes)
    x = np.exp(rng.uniform(np.log(0.05), np.log(5.0), n))
    p = np.zeros(n)
    p[list(spec.momentum_nodes)] = rng.normal(0.0, 1.0, len(spec.momentum_nodes))
    return x, p


def trajectory(spec: RdsSpec, t_end: float, points: int, p0: np.ndarray | None = None,
               rtol: float = 1e-10, atol: float = 1e-12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """libRoadRunner time course of the generated model: t (k,), x and p (k, n_nodes), k <= points.

    Starts at the spec's initial amounts and momenta ``p0`` (default 0; only momentum nodes are used).
    Integrates in chunks of 10 intervals and stops at the first chunk CVODE cannot finish: some
    trajectories drive a node's x towards 0 (below 1e-30) with its momentum frozen, where the
    integrator's steps overshoot to x < 0 and ln(x) is NaN (docs/dynamics.md). The prefix is returned.
    """
    engine = Engine(spec_to_model(spec), conserved_moiety_analysis=False)
    rr = engine.roadrunner
    rr.integrator.setValue("relative_tolerance", rtol)
    rr.integrator.setValue("absolute_tolerance", atol)
    mom = list(spec.momentum_nodes)
    if p0 is not None:
        for i in mom:
            rr.setValue(spec.nodes[i].momentum_id, float(p0[i]))
    sel = ["time"] + [n.species_id for n in spec.nodes] + [spec.nodes[i].momentum_id for i in mom]
    grid = np.linspace(0.0, t_end, points)
    rows = [np.array([rr.getValue(s) if s != "time" else 0.0 for s in sel])]
    for start in range(0, points - 1, 10):
        stop = min(start + 10, points - 1)
        try:
            chunk = np.asarray(rr.simulate(grid[start], grid[stop], stop - start + 1, sel))
        except RuntimeError:
            break
        rows.extend(chunk[1:])
    out = np.array(rows)
    n = len(spec.nodes)
    p = np.zeros((len(out), n))
    p[:, mom] = out[:, 1 + n:]
    return out[:, 0], out[:, 1 : 1 + n], p
