"""A fitness whose EPL learner on libRoadRunner hangs in native code; its own module so that a worker
imports libRoadRunner while it unpickles its chunk, before its task clock starts."""

from __future__ import annotations

import os
from pathlib import Path

from epl_sysbio import Engine, Model
from epl_sysbio.epl.learner import EplLearner
from epl_sysbio.evolve import Genome

from evolve_helpers import noisy_xor


class RoadRunnerLearnerHangOnSeed:
    """Runs an EPL learner on the ``roadrunner`` backend whose NLEQ2 never returns when it evaluates ``seed``.

    receptor_synapse with ``kon = 1e308``: the binding rate overflows to infinity and libRoadRunner's
    NLEQ2 loops for ever in ``deccon`` (issue 18), reached as in the main job, through
    ``EplLearner.initialise``. The worker writes its pid to ``marker`` first.
    """

    def __init__(self, seed: int, model: str, marker: str) -> None:
        self.seed, self.model, self.marker = seed, model, marker

    def __call__(self, genome: Genome, seed: int) -> float:
        if seed == self.seed:
            engine = Engine(Model.from_antimony_file(self.model))
            engine.roadrunner["kon"] = 1e308  # straight into libRoadRunner: Engine.steady_state would refuse it
            learner = EplLearner(engine, ("L",), ("C",), ("R",))
            Path(self.marker).write_text(str(os.getpid()))
            learner.initialise()
        return noisy_xor(genome, seed)
