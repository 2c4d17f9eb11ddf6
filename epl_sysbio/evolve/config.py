"""Configuration of NEAT and of the generation loop: frozen dataclasses and TOML.

Every option is a keyword-only, typed field validated at construction with the
one bad-parameter message template. TOML files load into the same classes:
unknown keys are refused with the closest valid name, a missing section or key
says what to put, and :func:`config_to_toml` writes a file that loads back to an
equal object (a run directory holds the exact config that produced it).

Defaults are those of Stanley & Miikkulainen (2002), "Evolving neural networks
through augmenting topologies", Evolutionary Computation 10(2):99-127, where the
paper gives them; choices the paper leaves open are marked "(ours)".
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from epl_sysbio.errors import ConfigError, InstanceOf, Interval, ListOf, Options, check_parameter, validate_fields

__all__ = [
    "ACTIVATION_NAMES",
    "CPPN_NEAT_CHOICES",
    "NeatConfig",
    "RunConfig",
    "EvolveConfig",
    "load_config",
    "config_from_dict",
    "config_to_toml",
    "config_hash",
    "read_config_text",
]

#: Activation functions a node may carry (see :mod:`epl_sysbio.evolve.cppn`).
ACTIVATION_NAMES = ("sigmoid", "tanh", "sin", "gauss", "abs", "identity", "relu", "step")
EXECUTORS = ("serial", "processes", "dask")
SPLIT_CHOICES = ("oldest_first", "uniform")
DISABLED_GENE_RULES = ("chosen", "either")


#: NEAT choices of the CPPN tasks (HyperNEAT mirror task, the EPL job), where the paper's XOR
#: defaults do worse: on the mirror task (benchmarks/hyperneat_mirror.py, 150 generations) these
#: solved 9 of 10 seeds and the paper's defaults 11 of 20. They are the choices this package made
#: before following the paper to the letter (docs/evolve.md, "CPPN tasks").
CPPN_NEAT_CHOICES = dict(crossover_average_rate=0.0, split_choice="uniform", species_elitism_min_size=5,
                         population_stagnation_generations=0, weight_replace_power=1.0,
                         disabled_gene_rule="either", equal_fitness_union=False)

#: Bounds no machine can honour beyond, refused before any compute: a population is held in memory
#: (a few kB per genome), the first generation starts fully connected (inputs x outputs genes each),
#: a recurrent CPPN is stepped per query, and every worker is a process.
MAX_POPULATION = 100_000
MAX_INITIAL_GENES = 10_000_000
MAX_RECURRENT_STEPS = 10_000
MAX_WORKERS = 1024


_REAL = (int, float)  # what a TOML file writes back
_COUNT = Interval(int, 1, None, closed="left")
_COUNT_OR_ZERO = Interval(int, 0, None, closed="left")
_POSITIVE = Interval(_REAL, 0, None, closed="neither")
_PROBABILITY = Interval(_REAL, 0, 1, closed="both")

_NEAT_PARAMETERS = {
    "n_inputs": _COUNT,
    "n_outputs": _COUNT,
    "population_size": Interval(int, 2, MAX_POPULATION, closed="both"),
    "activations": ListOf(Options(*ACTIVATION_NAMES), nonempty=True),
    "output_activation": Options(*ACTIVATION_NAMES),
    "recurrent": InstanceOf(bool),
    "split_choice": Options(*SPLIT_CHOICES),
    "disabled_gene_rule": Options(*DISABLED_GENE_RULES),
    "equal_fitness_union": InstanceOf(bool),
    "recurrent_steps": Interval(int, 1, MAX_RECURRENT_STEPS, closed="both"),
    **dict.fromkeys(("normalize_threshold", "species_elitism_min_size", "stagnation_generations"), _COUNT),
    **dict.fromkeys(("target_species", "protected_species", "population_stagnation_generations"), _COUNT_OR_ZERO),
    **dict.fromkeys(("c1", "c2", "c3"), Interval(_REAL, 0, None, closed="left")),
    **dict.fromkeys(("compatibility_threshold", "threshold_step", "min_threshold", "weight_perturb_power",
                     "weight_replace_power", "weight_init_range", "weight_max", "sigmoid_slope"), _POSITIVE),
    **dict.fromkeys(("weight_mutation_rate", "weight_perturb_fraction", "add_node_rate", "add_connection_rate",
                     "toggle_enable_rate", "activation_mutation_rate", "disable_inherited_rate", "crossover_rate",
                     "crossover_average_rate", "interspecies_mating_rate"), _PROBABILITY),
    "survival_threshold": Interval(_REAL, 0, 1, closed="right"),
}

_RUN_PARAMETERS = {
    "seed": _COUNT_OR_ZERO,
    "generations": _COUNT,
    "fitness_threshold": [Interval(_REAL, None, None, closed="neither"), None],
    "executor": Options(*EXECUTORS),
    "workers": Interval(int, 0, MAX_WORKERS, closed="both"),
    **dict.fromkeys(("retries", "checkpoint_every", "keep_checkpoints"), _COUNT_OR_ZERO),
    "hall_of_fame": _COUNT,
    "scheduler": InstanceOf(str),
    "time_limit": Interval(_REAL, 0, None, closed="left"),
    "worst_fitness": Interval(_REAL, None, None, closed="neither"),
    "progress": InstanceOf(bool),
    "plots": InstanceOf(bool),
}


@dataclass(frozen=True, kw_only=True)
class NeatConfig:
    """NEAT genome, mutation, crossover and speciation options.

    Attributes
    ----------
    n_inputs, n_outputs : int
        Network inputs (a bias input fixed at 1.0 is added after them) and outputs.
    population_size : int
        Individuals per generation (paper: 150).
    activations : tuple of str
        Activations a new hidden node draws from uniformly (paper: steepened sigmoid).
    output_activation : str
        Activation of the output nodes.
    recurrent : bool
        If False, add-connection never closes a cycle and evaluation is feed-forward.
    recurrent_steps : int
        Synchronous update steps of a recurrent network per query (ours).
    c1, c2, c3 : float
        Compatibility distance ``delta = c1 E / N + c2 D / N + c3 W`` (paper: 1, 1, 0.4).
    normalize_threshold : int
        ``N`` is the gene count of the larger genome, or 1 if it has fewer genes than this (paper: 20).
    compatibility_threshold : float
        Initial speciation threshold delta_t (paper: 3.0).
    target_species : int
        If > 0, the threshold moves by ``threshold_step`` each generation towards this species count (ours; 0 = fixed).
    threshold_step, min_threshold : float
        Step and floor of the adaptive threshold.
    weight_mutation_rate : float
        Probability that a genome's weights are mutated (paper: 0.8).
    weight_perturb_fraction : float
        Within a weight mutation, fraction of weights perturbed; the others get new values (paper: 0.9).
    weight_perturb_power : float
        Perturbations are uniform in ``[-power, power]`` (2.5, Stanley's code).
    weight_replace_power : float
        New values are uniform in ``[-power, power]`` (2.5: Stanley's code draws them like a
        perturbation; the CPPN tasks use 1.0, the initial range).
    weight_init_range, weight_max : float
        Weights of the first population and of new connections are uniform in ``[-init, init]``
        (1.0, Stanley's code); all weights are clipped to ``[-max, max]`` (8.0, Stanley's code).
    add_node_rate, add_connection_rate : float
        Structural mutation probabilities (paper: 0.03 and 0.05).
    split_choice : {"oldest_first", "uniform"}
        Which connection add-node splits: walking from the oldest (Stanley's code of 2001) or at random.
    toggle_enable_rate : float
        Probability of flipping one connection's enabled bit (ours: 0).
    activation_mutation_rate : float
        Probability of giving one hidden node a new activation (ours: 0).
    disable_inherited_rate : float
        A gene disabled in either parent is disabled in the child with this probability (paper: 0.75).
    crossover_rate : float
        Fraction of offspring produced by crossover; the rest by mutation only (paper: 0.75).
    crossover_average_rate : float
        Fraction of crossovers whose matching genes get the mean of the parents' weights
        (Stanley's code, ``mate_multipoint_avg_prob``: 0.4).
    disabled_gene_rule : {"chosen", "either"}
        How ``disable_inherited_rate`` applies to a matching gene disabled in either parent:
        "chosen" disables the chosen copy with that probability (Stanley's code); "either" gives
        a disabled gene with that probability whichever copy was chosen (the literal reading).
    equal_fitness_union : bool
        Equally fit parents pass on the disjoint and excess genes of both (the paper's Fig. 4).
    interspecies_mating_rate : float
        Probability that a crossover takes its second parent from another species (paper: 0.001).
    survival_threshold : float
        Fraction of each species (best first) allowed to reproduce (ours, after NEAT's code: 0.2).
    species_elitism_min_size : int
        The champion of every species with at least this many members is copied unchanged
        (paper: "more than five networks", so 6).
    stagnation_generations : int
        A species whose best fitness has not improved for this many generations stops reproducing (paper: 15).
    population_stagnation_generations : int
        When the population's best fitness has not improved for more than this many generations,
        only the two best species reproduce, once; then the count restarts (paper: 20; 0 = never).
    protected_species : int
        The best this many species are never removed for stagnation (ours: 1).
    sigmoid_slope : float
        Slope of the steepened sigmoid 1/(1+exp(-slope x)) (paper: 4.9).
    """

    n_inputs: int = 2
    n_outputs: int = 1
    population_size: int = 150
    activations: tuple[str, ...] = ("sigmoid",)
    output_activation: str = "sigmoid"
    recurrent: bool = False
    recurrent_steps: int = 5
    c1: float = 1.0
    c2: float = 1.0
    c3: float = 0.4
    normalize_threshold: int = 20
    compatibility_threshold: float = 3.0
    target_species: int = 0
    threshold_step: float = 0.3
    min_threshold: float = 0.3
    weight_mutation_rate: float = 0.8
    weight_perturb_fraction: float = 0.9
    weight_perturb_power: float = 2.5
    weight_init_range: float = 1.0
    weight_replace_power: float = 2.5
    weight_max: float = 8.0
    add_node_rate: float = 0.03
    add_connection_rate: float = 0.05
    split_choice: str = "oldest_first"
    toggle_enable_rate: float = 0.0
    activation_mutation_rate: float = 0.0
    disable_inherited_rate: float = 0.75
    crossover_rate: float = 0.75
    crossover_average_rate: float = 0.4
    disabled_gene_rule: str = "chosen"
    equal_fitness_union: bool = True
    interspecies_mating_rate: float = 0.001
    survival_threshold: float = 0.2
    species_elitism_min_size: int = 6
    stagnation_generations: int = 15
    population_stagnation_generations: int = 20
    protected_species: int = 1
    sigmoid_slope: float = 4.9

    def __post_init__(self) -> None:
        object.__setattr__(self, "activations", tuple(self.activations))
        validate_fields(self, _NEAT_PARAMETERS, error=ConfigError)
        genes = self.population_size * (self.n_inputs + 1) * self.n_outputs
        check_parameter(type(self).__name__, "population_size * (n_inputs + 1) * n_outputs",
                        genes <= MAX_INITIAL_GENES,
                        f"at most {MAX_INITIAL_GENES:,} (the connection genes of the first generation)", genes,
                        error=ConfigError)


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """Generation-loop options.

    Attributes
    ----------
    seed : int
        Run seed; the generator state and every evaluation seed derive from it.
    generations : int
        Maximum number of generations to evaluate.
    fitness_threshold : float or None
        Stop once the best fitness reaches this value (None: never).
    executor : {"serial", "processes", "dask"}
        Where evaluations run.
    workers : int
        Worker processes for "processes" and a local Dask cluster (0 = one per core).
    scheduler : str
        Address of an existing Dask scheduler; empty starts a LocalCluster on 127.0.0.1.
    time_limit : float
        Seconds one evaluation may take before it counts as failed (0 = no limit).
    retries : int
        Re-submissions of an evaluation whose worker was lost or that raised.
    worst_fitness : float
        Fitness given to a failed evaluation (raised, NaN, time limit, worker lost).
    checkpoint_every : int
        Generations between checkpoints (0 = none).
    keep_checkpoints : int
        How many of the newest checkpoints to keep (0 = all).
    hall_of_fame : int
        Size of the hall of fame.
    progress : bool
        Show a live progress bar (it degrades to one line per generation when not a TTY).
    plots : bool
        Write fitness.png and species.png into the run directory at the end.
    """

    seed: int = 0
    generations: int = 100
    fitness_threshold: float | None = None
    executor: str = "processes"
    workers: int = 0
    scheduler: str = ""
    time_limit: float = 0.0
    retries: int = 2
    worst_fitness: float = 0.0
    checkpoint_every: int = 1
    keep_checkpoints: int = 3
    hall_of_fame: int = 5
    progress: bool = True
    plots: bool = True

    def __post_init__(self) -> None:
        validate_fields(self, _RUN_PARAMETERS, error=ConfigError)


@dataclass(frozen=True, kw_only=True)
class EvolveConfig:
    """Everything a run needs: ``[neat]`` and ``[run]`` sections of one TOML file."""

    neat: NeatConfig = field(default_factory=NeatConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def __post_init__(self) -> None:
        validate_fields(self, {"neat": InstanceOf(NeatConfig), "run": InstanceOf(RunConfig)}, error=ConfigError)

    def replace(self, **changes: Any) -> EvolveConfig:
        """A copy with fields of ``neat``/``run`` changed, e.g. ``replace(run={"seed": 3})``."""
        neat = dataclasses.replace(self.neat, **changes.pop("neat", {}))
        run = dataclasses.replace(self.run, **changes.pop("run", {}))
        if changes:
            raise ConfigError(f"EvolveConfig.replace accepts 'neat' and 'run' only. Got {sorted(changes)} instead.")
        return EvolveConfig(neat=neat, run=run)


_SECTIONS = {"neat": NeatConfig, "run": RunConfig}


def _section_from_dict(cls: type, data: dict[str, Any], where: str) -> Any:
    names = [f.name for f in fields(cls)]
    for key in sorted(data):
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else f" Valid keys: {', '.join(names)}."
            raise ConfigError(f"Unknown key {key!r} in [{where}].{hint}")
    values = dict(data)
    if cls is RunConfig and values.get("fitness_threshold") == "none":
        values["fitness_threshold"] = None
    if "activations" in values and isinstance(values["activations"], list):
        values["activations"] = tuple(values["activations"])
    return cls(**values)


def config_from_dict(data: dict[str, Any], *, require_all: bool = False) -> EvolveConfig:
    """Build an :class:`EvolveConfig` from nested dicts (``{"neat": {...}, "run": {...}}``).

    With ``require_all``, a missing section or key is an error that says which
    value to put (the default's value), as a config written for a run must be complete.
    """
    for key in sorted(data):
        if key not in _SECTIONS:
            close = difflib.get_close_matches(key, list(_SECTIONS), n=1)
            hint = f" Did you mean [{close[0]}]?" if close else " Valid sections: [neat], [run]."
            raise ConfigError(f"Unknown section [{key}].{hint}")
    parts = {}
    for name, cls in _SECTIONS.items():
        section = data.get(name, {})
        if not isinstance(section, dict):
            raise ConfigError(f"[{name}] must be a table of keys. Got {section!r} instead.")
        if require_all:
            default = cls()
            for f in fields(cls):
                if f.name not in section:
                    raise ConfigError(
                        f"Missing key {f.name!r} in [{name}]; put e.g. "
                        f"'{f.name} = {_toml_value(getattr(default, f.name))}' (the default)."
                    )
        parts[name] = _section_from_dict(cls, section, name)
    return EvolveConfig(**parts)


def load_config(path: str | Path, *, require_all: bool = False) -> EvolveConfig:
    """Read an :class:`EvolveConfig` from a TOML file."""
    path = Path(path)
    try:
        data = tomllib.loads(read_config_text(path))
    except FileNotFoundError as exc:
        raise ConfigError(f"Config file {str(path)!r} does not exist; write one with config_to_toml().") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {str(path)!r} is not valid TOML: {exc}.") from exc
    return config_from_dict(data, require_all=require_all)


def read_config_text(path: str | Path) -> str:
    """The UTF-8 text of a config file; unreadable or non-UTF-8 files get a :class:`ConfigError`
    (a missing one keeps ``FileNotFoundError`` for the caller's own message)."""
    path = Path(path)
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ConfigError(f"Config file {str(path)!r} cannot be read: {exc.strerror or exc}.") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"Config file {str(path)!r} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                          "TOML files are UTF-8. Save it as UTF-8.") from None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return '"none"'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(float(value))  # np.float64 is a float whose repr is not TOML
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"Cannot write {value!r} of type {type(value).__name__} to TOML.")


def sections_to_toml(config: Any, sections: tuple[str, ...]) -> str:
    """TOML text of a config made of dataclass sections: one ``[name]`` table each, every key written."""
    lines: list[str] = []
    for name in sections:
        section = getattr(config, name)
        lines.append(f"[{name}]")
        lines.extend(f"{f.name} = {_toml_value(getattr(section, f.name))}" for f in fields(section))
        lines.append("")
    return "\n".join(lines)


def config_to_toml(config: EvolveConfig) -> str:
    """TOML text that :func:`load_config` reads back to an equal config (every key written)."""
    return sections_to_toml(config, _SECTIONS)


def config_hash(config: EvolveConfig, *, ignore: tuple[str, ...] = ("generations", "progress", "plots")) -> str:
    """SHA-256 of the config fields that change results.

    ``run.generations``, ``progress`` and ``plots`` are left out so that a run
    may be resumed with a longer horizon or another display.
    """
    data = {
        name: {k: v for k, v in dataclasses.asdict(getattr(config, name)).items()
               if not (name == "run" and k in ignore)}
        for name in _SECTIONS
    }
    # executor, workers, scheduler, time_limit do not change results either
    for k in ("executor", "workers", "scheduler"):
        data["run"].pop(k, None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=list).encode()).hexdigest()
