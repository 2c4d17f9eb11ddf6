"""Compile time of expressed EPL networks: libRoadRunner's default MCJIT against LLJIT at level 0.

    .venv/bin/python benchmarks/epl_compile.py [--networks 10] [--seed 1]

Networks are expressed from random CPPN genomes of the ``default`` preset
(each SBML text made unique so that libRoadRunner's model cache cannot serve
it). Times one ``Engine`` construction (compile + conserved-moiety recompile)
per network under each backend, and prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import roadrunner

from epl_sysbio.epl.config import preset
from epl_sysbio.epl.substrate import build_network, fast_compile
from epl_sysbio.evolve import initial_genome
from epl_sysbio.model import Model
from epl_sysbio.simulate import Engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cfg = preset("default")
    rng = np.random.default_rng(args.seed)
    nets = []
    while len(nets) < args.networks:
        net = build_network(initial_genome(cfg.neat, rng), cfg)
        if not isinstance(net, str):
            nets.append(net)
    texts = [n.model.to_sbml() for n in nets]
    counter = [0]

    def unique(text: str) -> Model:
        counter[0] += 1
        return Model.from_sbml(text.replace('id="epl_learner"', f'id="m{counter[0]}"', 1), validate=False)

    times = {}
    for name in ("mcjit", "lljit0"):
        models = [unique(t) for t in texts]
        t0 = time.perf_counter()
        if name == "mcjit":
            c = roadrunner.Config
            c.setValue(c.LLVM_BACKEND, c.MCJIT)
            for m in models:
                Engine(m)
        else:
            with fast_compile():
                for m in models:
                    Engine(m)
        times[name] = (time.perf_counter() - t0) / len(models)
    sizes = [n.model.sbml_model.getNumReactions() for n in nets]
    print(f"{'backend':<10}{'s per engine':>14}")
    for name, t in times.items():
        print(f"{name:<10}{t:>14.3f}")
    print(json.dumps({"networks": len(nets), "sbml_reactions_mean": float(np.mean(sizes)),
                      "mcjit_s_per_engine": times["mcjit"], "lljit0_s_per_engine": times["lljit0"],
                      "speedup": times["mcjit"] / times["lljit0"]}))


if __name__ == "__main__":
    main()
