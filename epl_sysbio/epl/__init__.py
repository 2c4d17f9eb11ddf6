"""Equilibrium Point Learning: CPPN expression, the learner (Algorithm 1), tasks, fitness, the main job.

See docs/epl.md. The main job is :func:`run_job` (``epl-sysbio evolve``).
"""

from .ablations import ABLATIONS, AblatedLearner, LifetimeEvaluation, LifetimeStart, evaluate_ablations, \
    learner_lifetimes, lifetime_seeds, order_dependence
from .alignment import LossGradient, alignment_score, equilibrium_layer, loss_gradient, network_alignment, \
    node_inputs, probe_alignment
from .config import PRESETS, EplJobConfig, job_config_from_dict, job_config_hash, job_config_to_toml, \
    load_job_config, preset
from .expression import EplSubstrateConfig, express_substrate
from .export import export_network, sedml_steady_state, write_omex
from .fitness import WORST_FITNESS, FitnessWeights, LearnerReport, evaluate_learner, fitness_value
from .held_out import evaluate_champion, load_champion, write_lifetime_report
from .job import JobResult, prepare_run_dir, run_job, summarise
from .learner import LEARNER_STATUSES, EplLearner, LearnerOptions, Response, active
from .lifetime_tasks import LIFETIME_TASKS, Bandit2, Bandit5, CartPoleReversal, LifetimeTask
from .references import REFERENCE_POLICIES, bayes_optimal_bandit2, frozenlake_ceiling, gittins_table, \
    reference_lifetimes
from .substrate import LearnerNetwork, assign_roles, build_network, evaluate_genome, export_champion, \
    make_learner
from .registry import TASKS, make_task
from .tasks import TASK_NAMES, CartPole, EpochResult, FrozenLake, LifetimeResult, Regression, Task, TaskConfig, Xor, \
    split_signed

__all__ = [
    "ABLATIONS",
    "AblatedLearner",
    "Bandit2",
    "Bandit5",
    "CartPole",
    "CartPoleReversal",
    "EplJobConfig",
    "EplLearner",
    "EplSubstrateConfig",
    "EpochResult",
    "FitnessWeights",
    "FrozenLake",
    "JobResult",
    "LEARNER_STATUSES",
    "LIFETIME_TASKS",
    "LearnerNetwork",
    "LearnerOptions",
    "LearnerReport",
    "LifetimeEvaluation",
    "LifetimeResult",
    "LifetimeStart",
    "LifetimeTask",
    "LossGradient",
    "PRESETS",
    "REFERENCE_POLICIES",
    "Regression",
    "Response",
    "TASKS",
    "TASK_NAMES",
    "Task",
    "TaskConfig",
    "WORST_FITNESS",
    "Xor",
    "active",
    "alignment_score",
    "assign_roles",
    "bayes_optimal_bandit2",
    "build_network",
    "equilibrium_layer",
    "evaluate_ablations",
    "evaluate_champion",
    "evaluate_genome",
    "evaluate_learner",
    "export_champion",
    "export_network",
    "express_substrate",
    "fitness_value",
    "frozenlake_ceiling",
    "gittins_table",
    "job_config_from_dict",
    "job_config_hash",
    "job_config_to_toml",
    "learner_lifetimes",
    "lifetime_seeds",
    "load_champion",
    "load_job_config",
    "loss_gradient",
    "make_learner",
    "network_alignment",
    "make_task",
    "node_inputs",
    "order_dependence",
    "prepare_run_dir",
    "preset",
    "probe_alignment",
    "reference_lifetimes",
    "run_job",
    "sedml_steady_state",
    "split_signed",
    "summarise",
    "write_lifetime_report",
    "write_omex",
]
