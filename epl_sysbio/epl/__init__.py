"""Equilibrium Point Learning: CPPN expression, the learner (Algorithm 1), tasks, fitness, the main job.

See docs/epl.md. The main job is :func:`run_job` (``epl-sysbio evolve``).
"""

from .alignment import LossGradient, alignment_score, best_learner_alignment, equilibrium_layer, loss_gradient, \
    node_inputs, probe_alignment
from .config import PRESETS, EplJobConfig, job_config_from_dict, job_config_hash, job_config_to_toml, \
    load_job_config, preset
from .expression import EplSubstrateConfig, ExpressedRds, express_substrate
from .export import export_network, sedml_steady_state, write_omex
from .fitness import WORST_FITNESS, FitnessWeights, LearnerReport, evaluate_learner, fitness_value
from .job import JobResult, prepare_run_dir, run_job, summarise
from .learner import LEARNER_STATUSES, EplLearner, LearnerOptions, Response, active
from .substrate import LearnerNetwork, assign_roles, build_network, evaluate_genome, export_champion, \
    make_learner
from .tasks import TASKS, CartPole, EpochResult, FrozenLake, Regression, Task, TaskConfig, Xor, derive_seed, \
    make_task, split_signed

__all__ = [
    "CartPole",
    "EplJobConfig",
    "EplLearner",
    "EplSubstrateConfig",
    "EpochResult",
    "ExpressedRds",
    "FitnessWeights",
    "FrozenLake",
    "JobResult",
    "LEARNER_STATUSES",
    "LearnerNetwork",
    "LearnerOptions",
    "LearnerReport",
    "LossGradient",
    "PRESETS",
    "Regression",
    "Response",
    "TASKS",
    "Task",
    "TaskConfig",
    "WORST_FITNESS",
    "Xor",
    "active",
    "alignment_score",
    "assign_roles",
    "best_learner_alignment",
    "build_network",
    "derive_seed",
    "equilibrium_layer",
    "evaluate_genome",
    "evaluate_learner",
    "export_champion",
    "export_network",
    "express_substrate",
    "fitness_value",
    "job_config_from_dict",
    "job_config_hash",
    "job_config_to_toml",
    "load_job_config",
    "loss_gradient",
    "make_learner",
    "make_task",
    "node_inputs",
    "prepare_run_dir",
    "preset",
    "probe_alignment",
    "run_job",
    "sedml_steady_state",
    "split_signed",
    "summarise",
    "write_omex",
]
