"""Equilibrium layer: forward solve vs forward + implicit gradient vs finite differences.

The network is the 20-species cascade of benchmarks/steady_state.py (10
phosphorylation cycles, 20 Michaelis-Menten reactions, 10 conservation laws).
Layer: input ``u`` (drives the first kinase), outputs the 20 species
concentrations, 20 trainable parameters (``kcat0..9``, ``V0..9``). Every timed
call follows a change of the input, alternating between two values, warm
start (each solve starts from the previous steady state, so Newton has work).

* forward: ``layer.forward(x)`` (steady state, outputs, stability verdict);
* forward + gradient: ``layer.forward(x, gradient=True)``, the full 20 x 20
  Jacobian ``d outputs / d params`` (plus ``d outputs / d u``);
* finite differences: the same Jacobian by central differences, 2 x 20
  forward solves with relative step 1e-6 (what the layer replaces).

Run: .venv/bin/python benchmarks/deq.py [--seconds 3]
Targets: forward + gradient <= 3x forward; finite differences >= 10x slower.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from steady_state import cascade_antimony, time_calls  # sibling script

from epl_sysbio.deq import EquilibriumLayer, LayerOptions
from epl_sysbio.model import Model

N_CYCLES = 10


def finite_difference_jacobian(layer: EquilibriumLayer, x: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """Central differences of the outputs with respect to the params (relative step)."""
    theta = layer.params
    jac = np.empty((len(layer.output_ids), theta.size))
    for j in range(theta.size):
        h = step * theta[j]
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        jac[:, j] = (layer.forward(x, params=up).values[0] - layer.forward(x, params=down).values[0]) / (2 * h)
    layer.set_params(theta)
    return jac


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time budget per contender")
    args = parser.parse_args()

    model = Model.from_antimony(cascade_antimony(N_CYCLES))
    params = [f"kcat{i}" for i in range(N_CYCLES)] + [f"V{i}" for i in range(N_CYCLES)]
    outputs = [f"[{s}{i}]" for i in range(N_CYCLES) for s in ("X", "Xp")]
    t0 = time.perf_counter()
    layer = EquilibriumLayer(model, inputs=["u"], outputs=outputs, params=params, options=LayerOptions(start="warm"))
    build_s = time.perf_counter() - t0
    inputs = (np.array([[0.8]]), np.array([[1.6]]))
    assert layer.forward(inputs[0]).ok.all()

    def forward(i: int) -> None:
        if not layer.forward(inputs[i % 2]).ok.all():
            raise RuntimeError("forward failed")

    def forward_and_gradient(i: int) -> None:
        if not layer.forward(inputs[i % 2], gradient=True).ok.all():
            raise RuntimeError("forward failed")

    def finite_differences(i: int) -> None:
        finite_difference_jacobian(layer, inputs[i % 2])

    results = {}
    for name, fn in (("forward", forward), ("forward_and_gradient", forward_and_gradient),
                     ("finite_difference", finite_differences)):
        calls, wall = time_calls(fn, args.seconds)
        results[name] = wall / calls

    # Agreement at one input (the finite differences are only the yardstick here).
    out = layer.forward(inputs[1], gradient=True)
    fd = finite_difference_jacobian(layer, inputs[1])
    scale = np.abs(fd).max()
    agreement = float(np.max(np.abs(out.d_params[0] - fd)) / scale)

    ratio_gradient = results["forward_and_gradient"] / results["forward"]
    ratio_fd = results["finite_difference"] / results["forward_and_gradient"]
    print(f"network: {len(layer.elasticities.state_ids)} species, {len(layer.elasticities.reaction_ids)} reactions, "
          f"{layer.gradient_rule.n_conservation_laws} conservation laws, {len(params)} params, "
          f"{len(layer.elasticities.derivative_ids)} rate-law derivatives compiled in {build_s:.2f} s")
    print(f"{'contender':<44}{'ms per call':>12}{'x forward':>11}")
    for name in results:
        print(f"{name:<44}{1e3 * results[name]:>12.3f}{results[name] / results['forward']:>11.1f}")
    print(f"forward+gradient / forward = {ratio_gradient:.2f} (target <= 3); "
          f"finite differences / (forward+gradient) = {ratio_fd:.1f} (target >= 10)")
    print(f"max |implicit - finite difference| / max |finite difference| = {agreement:.2e}")
    print(json.dumps({
        "forward_s": results["forward"],
        "forward_and_gradient_s": results["forward_and_gradient"],
        "finite_difference_s": results["finite_difference"],
        "gradient_over_forward": round(ratio_gradient, 2),
        "finite_difference_over_gradient": round(ratio_fd, 1),
        "max_rel_diff_vs_finite_difference": agreement,
        "n_params": len(params),
        "n_species": len(layer.elasticities.state_ids),
    }))


if __name__ == "__main__":
    main()
