"""NEAT and HyperNEAT on DEAP, with a generation loop that scales out and never loses work.

Generic: it maps genomes to fitness through a function it is given and
imports nothing of SBML, dynamics or tasks.
"""

from .checkpoint import latest_checkpoint, list_checkpoints, load_checkpoint, save_checkpoint
from .config import ACTIVATION_NAMES, CPPN_NEAT_CHOICES, EvolveConfig, NeatConfig, RunConfig, config_from_dict, \
    config_hash, config_to_toml, load_config
from .cppn import FeedForwardNetwork, RecurrentNetwork, activation_function, compile_genome
from .executors import WORKER_LOST, DaskExecutor, Evaluation, Executor, Outcome, ProcessExecutor, SerialExecutor, TaskLost, \
    evaluate_guarded, make_executor
from .genome import ConnectionGene, Genome, InnovationTracker, NeatFitness, NodeGene, initial_genome, \
    initial_tracker
from .hyperneat import ExpressedNetwork, HyperNeatConfig, Substrate, express, query_pairs
from .loop import EvolveResult, evolve, genome_to_dict, resume
from .mirror import mirror_fitness, mirror_neat_config, mirror_substrate, mirror_target
from .report import GenerationReport, Reporter
from .operators import compatibility_distance, cx_neat, mut_activation, mut_add_connection, mut_add_node, \
    mut_neat, mut_toggle_enable, mut_weights, random_genome
from .species import Species, reproduce, speciate
from .xor import xor_fitness

__all__ = [
    "ACTIVATION_NAMES",
    "CPPN_NEAT_CHOICES",
    "ConnectionGene",
    "DaskExecutor",
    "Evaluation",
    "EvolveConfig",
    "EvolveResult",
    "Executor",
    "ExpressedNetwork",
    "FeedForwardNetwork",
    "GenerationReport",
    "Genome",
    "HyperNeatConfig",
    "InnovationTracker",
    "NeatConfig",
    "NeatFitness",
    "NodeGene",
    "Outcome",
    "ProcessExecutor",
    "RecurrentNetwork",
    "Reporter",
    "RunConfig",
    "SerialExecutor",
    "Species",
    "Substrate",
    "TaskLost",
    "WORKER_LOST",
    "activation_function",
    "compatibility_distance",
    "compile_genome",
    "config_from_dict",
    "config_hash",
    "config_to_toml",
    "cx_neat",
    "evaluate_guarded",
    "evolve",
    "express",
    "genome_to_dict",
    "initial_genome",
    "initial_tracker",
    "latest_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "load_config",
    "make_executor",
    "mirror_fitness",
    "mirror_neat_config",
    "mirror_substrate",
    "mirror_target",
    "mut_activation",
    "mut_add_connection",
    "mut_add_node",
    "mut_neat",
    "mut_toggle_enable",
    "mut_weights",
    "query_pairs",
    "random_genome",
    "reproduce",
    "resume",
    "save_checkpoint",
    "speciate",
    "xor_fitness",
]
