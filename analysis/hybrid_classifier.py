"""A hybrid classifier: linear layer -> molecular equilibrium layer -> linear readout, on two moons.

    python analysis/hybrid_classifier.py --out runs/hybrid_classifier [--quick] [--seed 0]

Data: two interleaving half circles ("two moons", noise 0.1), generated here,
standardised with the training set's mean and deviation. Network:
``nn.Linear(2, H) -> nn.Softplus() -> MolecularLayer(units=H) -> nn.Linear(H, 2)``
where each of the H hidden units is the phosphorylation-cycle neuron of
``sbml_models/phosphorylation_cycle_neuron.ant`` (a Michaelis-Menten
kinase/phosphatase cycle): its input ``u`` (softplus keeps it >= 0) drives the
kinase, its output is the steady-state ``[Xp]``, and its trainable parameters
are the two Michaelis constants (log scale), one pair per unit. Every forward
pass solves ``H x batch`` steady states with libRoadRunner; the backward pass
uses the implicit-function-theorem gradient. Full-batch Adam on the cross
entropy, in double precision; seeded (data, initial weights, unit spread).

Writes loss_curve.png, decision_boundary.png and training.csv into --out and
prints one JSON line of headline figures last.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from _script import save_figure, start_run, write_csv  # noqa: E402  (sibling module)
from torch import nn  # noqa: E402

from epl_sysbio.deq import EquilibriumLayer, MolecularLayer  # noqa: E402
from epl_sysbio.model import Model  # noqa: E402

MODEL = Path(__file__).resolve().parent.parent / "sbml_models" / "phosphorylation_cycle_neuron.ant"
FULL = dict(train=200, test=1000, units=6, epochs=150, lr=0.05, noise=0.1, eval_every=10)
QUICK = dict(train=100, test=200, units=4, epochs=40, lr=0.05, noise=0.1, eval_every=10)


def two_moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points on two interleaving half circles plus N(0, noise^2) jitter; labels 0/1."""
    t = rng.uniform(0.0, np.pi, n)
    label = rng.integers(0, 2, n)
    upper = np.c_[np.cos(t), np.sin(t)]
    lower = np.c_[1.0 - np.cos(t), 0.5 - np.sin(t)]
    x = np.where(label[:, None] == 0, upper, lower)
    return x + rng.normal(0.0, noise, x.shape), label


def accuracy(net: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        return float((net(torch.from_numpy(x)).argmax(dim=1).numpy() == y).mean())


def main(argv: list[str] | None = None) -> dict:
    args, cfg, rng = start_run(__doc__.splitlines()[0], argv, FULL, QUICK)
    start = time.perf_counter()
    x_train, y_train = two_moons(cfg["train"], cfg["noise"], rng)
    x_test, y_test = two_moons(cfg["test"], cfg["noise"], rng)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

    layer = EquilibriumLayer(Model.from_antimony_file(MODEL), inputs=["u"], outputs=["[Xp]"],
                             params=["Km_kin", "Km_pase"])
    torch.manual_seed(int(rng.integers(2**31)))
    units = cfg["units"]
    molecular = MolecularLayer(layer, units=units, rng=rng)
    net = nn.Sequential(nn.Linear(2, units), nn.Softplus(), molecular, nn.Linear(units, 2)).double()
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg["lr"])
    x_t, y_t = torch.from_numpy(x_train), torch.from_numpy(y_train)
    rows = []
    for epoch in range(cfg["epochs"] + 1):
        optimizer.zero_grad()
        logits = net(x_t)
        loss = nn.functional.cross_entropy(logits, y_t)
        train_acc = float((logits.detach().argmax(dim=1).numpy() == y_train).mean())
        # The test set costs H x 1000 steady states: evaluated every eval_every epochs (NaN between).
        last = epoch == cfg["epochs"]
        test_acc = accuracy(net, x_test, y_test) if last or epoch % cfg["eval_every"] == 0 else float("nan")
        if not last:
            loss.backward()
            optimizer.step()
        rows.append((epoch, float(loss.detach()), train_acc, test_acc))
    write_csv(args.out / "training.csv", ["epoch", "train_loss", "train_accuracy", "test_accuracy"], rows)
    epochs, losses, train_acc, test_acc = (np.array(c) for c in zip(*rows))
    evaluated = np.isfinite(test_acc)

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax.plot(epochs, losses, label="training cross entropy")
    ax.set_yscale("log")
    ax.set_xlabel("epoch (full-batch Adam step)")
    ax.set_ylabel("cross entropy")
    ax.set_title(f"Linear(2,{units}) -> Softplus -> {units} phosphorylation-cycle\nneurons (steady state) -> Linear({units},2)")
    ax.legend(loc="upper right")
    ax2.plot(epochs, train_acc, label="train")
    ax2.plot(epochs[evaluated], test_acc[evaluated], "o-", ms=3, label=f"test ({cfg['test']} points)")
    ax2.axhline(0.95, color="grey", ls=":", label="95 % target")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy")
    ax2.set_ylim(0.4, 1.01)
    ax2.set_title("two moons (noise 0.1)")
    ax2.legend(loc="lower right")
    save_figure(fig, args.out / "loss_curve.png")

    grid = np.stack(np.meshgrid(np.linspace(-2.5, 2.5, 60), np.linspace(-2.5, 2.5, 60)), axis=-1).reshape(-1, 2)
    with torch.no_grad():
        prob = torch.softmax(net(torch.from_numpy(grid)), dim=1)[:, 1].numpy().reshape(60, 60)
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    ax.contourf(grid[:, 0].reshape(60, 60), grid[:, 1].reshape(60, 60), prob, levels=20, cmap="RdBu_r", alpha=0.6)
    ax.scatter(x_test[:, 0], x_test[:, 1], c=y_test, cmap="RdBu_r", s=6, edgecolors="k", linewidths=0.2)
    ax.set_title(f"test points and P(class 1); test accuracy {test_acc[-1]:.3f}")
    ax.set_xlabel("x1 (standardised)")
    ax.set_ylabel("x2 (standardised)")
    save_figure(fig, args.out / "decision_boundary.png")

    headline = dict(
        seed=args.seed,
        quick=args.quick,
        hidden_molecular_units=units,
        epochs=cfg["epochs"],
        final_train_loss=float(losses[-1]),
        final_train_accuracy=float(train_acc[-1]),
        final_test_accuracy=float(test_acc[-1]),
        first_evaluated_epoch_test_accuracy_95=(int(epochs[np.argmax(np.nan_to_num(test_acc) >= 0.95)])
                                                if np.any(np.nan_to_num(test_acc) >= 0.95) else None),
        molecular_km_kin_range=[float(v) for v in molecular.params.detach()[:, 0].aminmax()],
        seconds=round(time.perf_counter() - start, 1),
    )
    print(json.dumps(headline))
    return headline


if __name__ == "__main__":
    main()
