"""Reporters: the loop tells them about every generation, with what each evaluation handed back."""

from __future__ import annotations

import numpy as np

from epl_sysbio.evolve import EvolveConfig, Reporter, compile_genome, evolve, resume
from epl_sysbio.evolve.xor import XOR_INPUTS

from evolve_helpers import xor_with_outputs


def small(generations=4, **run):
    return EvolveConfig().replace(neat={"population_size": 20},
                                  run={"seed": 5, "generations": generations, "executor": "serial",
                                       "progress": False, "plots": False, **run})


class Recorder(Reporter):
    def __init__(self):
        self.calls, self.reports = [], []

    def start_generation(self, generation):
        self.calls.append(("start", generation))

    def end_generation(self, report):
        self.calls.append(("end", report.generation))
        self.reports.append(report)


def test_reporters_get_each_evaluations_info_with_its_genome_and_seed():
    recorder = Recorder()
    result = evolve(xor_with_outputs, small(), reporters=[recorder])
    assert recorder.calls == [(kind, g) for g in range(4) for kind in ("start", "end")]
    for report in recorder.reports:
        assert len(report.infos) == len(report.population) == len(report.seeds) == 20
        assert report.record == result.logbook[report.generation] and report.evaluations == 20 * (report.generation + 1)
        for genome, seed, info in zip(report.population, report.seeds, report.infos):
            assert info["seed"] == seed  # the info of this very evaluation, in population order
            np.testing.assert_array_equal(info["outputs"], compile_genome(genome)(XOR_INPUTS)[:, 0])
        best = report.population[report.best_index]
        assert best.fitness.values[0] == report.record["best"] == max(g.fitness.values[0] for g in report.population)


def test_a_resume_tells_the_reporters_about_the_generations_it_repeats(tmp_path):
    full = Recorder()
    evolve(xor_with_outputs, small(generations=5), reporters=[full])
    evolve(xor_with_outputs, small(generations=3, checkpoint_every=2), run_dir=tmp_path / "run")
    resumed = Recorder()
    resume(tmp_path / "run", xor_with_outputs, generations=5, reporters=[resumed])  # from the checkpoint of gen 2
    assert resumed.calls == [(kind, g) for g in (2, 3, 4) for kind in ("start", "end")]
    for a, b in zip(resumed.reports, full.reports[2:]):
        assert a.infos == b.infos and a.seeds == b.seeds and a.record == b.record
