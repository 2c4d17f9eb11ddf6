"""Configuration of the main job: HyperNEAT over EPL learners, as frozen dataclasses and TOML.

One TOML file has six sections: ``[neat]`` and ``[run]`` (the generic
:class:`~epl_sysbio.evolve.EvolveConfig`, unchanged), ``[task]``
(:class:`~.tasks.TaskConfig`), ``[learner]`` (:class:`~.learner.LearnerOptions`),
``[substrate]`` (:class:`~.expression.EplSubstrateConfig`) and ``[fitness]``
(:class:`~.fitness.FitnessWeights`). Unknown sections and keys are refused
with the closest valid name; :func:`job_config_to_toml` writes every key, so a
run directory holds the exact config that produced it and loads back equal.

Presets (:data:`PRESETS`): ``default`` is the quick CartPole run behind
``make run`` (about 10 minutes on 2 cores); ``paper`` is the paper's scale
(population 100, 50 generations, 10 learning epochs); ``frozenlake-paper`` the
same on FrozenLake; ``smoke`` a seconds-long run for tests; ``bandit2``, ``bandit5``
and ``cartpole-reversal`` the lifetime tasks (a hidden variable per lifetime) and
``lifetime-smoke`` a seconds-long bandit run for tests. Every preset
gives one evaluation 600 s (``[run] time_limit``): past it, its worker is
killed and replaced and the individual gets the worst fitness.
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

from epl_sysbio.errors import ConfigError, EplSysbioError, InstanceOf, validate_fields
from epl_sysbio.evolve.config import CPPN_NEAT_CHOICES, EvolveConfig, NeatConfig, RunConfig, _section_from_dict, \
    sections_to_toml

from .expression import EplSubstrateConfig
from .fitness import FitnessWeights
from .learner import LearnerOptions
from .tasks import TaskConfig

__all__ = ["EplJobConfig", "PRESETS", "preset", "load_job_config", "job_config_from_dict", "job_config_to_toml",
           "job_config_hash"]

_SECTIONS: dict[str, type] = {
    "neat": NeatConfig,
    "run": RunConfig,
    "task": TaskConfig,
    "learner": LearnerOptions,
    "substrate": EplSubstrateConfig,
    "fitness": FitnessWeights,
}

#: The CPPN of Algorithm 2: inputs (g_i, s_i, g_j, s_j), three tanh outputs read through atanh.
CPPN_NEAT = dict(n_inputs=4, n_outputs=3, output_activation="tanh",
                 activations=("sigmoid", "tanh", "sin", "gauss", "abs", "identity"), **CPPN_NEAT_CHOICES)


@dataclass(frozen=True, kw_only=True)
class EplJobConfig:
    """Everything the main job needs (see the module docstring for the sections)."""

    neat: NeatConfig = field(default_factory=lambda: NeatConfig(population_size=100, **CPPN_NEAT))
    # A learner on libRoadRunner can loop for ever inside NLEQ2 (issue 18): every preset arms the
    # supervised workers' budget, far above the slowest evaluation measured (docs/reliability.md).
    run: RunConfig = field(default_factory=lambda: RunConfig(generations=50, worst_fitness=0.0, time_limit=600.0))
    task: TaskConfig = field(default_factory=lambda: TaskConfig(observations="pole"))
    learner: LearnerOptions = field(default_factory=LearnerOptions)
    substrate: EplSubstrateConfig = field(
        default_factory=lambda: EplSubstrateConfig(n_genes=3, n_spaces=2, existence_threshold=-0.3))
    fitness: FitnessWeights = field(default_factory=FitnessWeights)

    def __post_init__(self) -> None:
        validate_fields(self, {name: InstanceOf(cls) for name, cls in _SECTIONS.items()}, error=ConfigError)
        n = self.neat
        if (n.n_inputs, n.n_outputs) != (4, 3):
            raise ConfigError(f"[neat] n_inputs and n_outputs must be 4 and 3 for the EPL CPPN "
                              f"(g_i, s_i, g_j, s_j) -> 3 outputs. Got {n.n_inputs} and {n.n_outputs} instead.")

    @property
    def evolve_config(self) -> EvolveConfig:
        """The ``[neat]`` and ``[run]`` sections as the generic loop's config."""
        return EvolveConfig(neat=self.neat, run=self.run)

    def replace(self, **changes: dict[str, Any]) -> EplJobConfig:
        """A copy with fields of sections changed, e.g. ``replace(run={"seed": 3}, task={"epochs": 5})``."""
        unknown = sorted(set(changes) - set(_SECTIONS))
        if unknown:
            raise ConfigError(f"EplJobConfig.replace: unknown sections {unknown}; valid: {sorted(_SECTIONS)}.")
        return EplJobConfig(**{name: dataclasses.replace(getattr(self, name), **changes.get(name, {}))
                               for name in _SECTIONS})


def _paper(task: str) -> EplJobConfig:
    return EplJobConfig().replace(task={"name": task, "epochs": 10})


PRESETS: dict[str, EplJobConfig] = {
    "default": EplJobConfig().replace(neat={"population_size": 24}, run={"generations": 8},
                                      task={"eval_episodes": 1}),
    "paper": _paper("cartpole"),
    "frozenlake-paper": _paper("frozenlake").replace(task={"eval_episodes": 20}),
    "smoke": EplJobConfig().replace(neat={"population_size": 6}, run={"generations": 2, "executor": "serial",
                                                                      "progress": False},
                                    task={"name": "xor", "epochs": 2, "eval_episodes": 1}),
    # lifetime tasks (docs/epl.md, "Lifetime tasks"): the hidden variable changes every lifetime; every
    # species keeps its champion (small populations lose a rare learner otherwise)
    "bandit2": EplJobConfig().replace(neat={"population_size": 32, "species_elitism_min_size": 1},
                                      run={"generations": 20}, task={"name": "bandit2", "lifetimes": 8},
                                      learner={"active": "mean"}),
    "bandit5": EplJobConfig().replace(neat={"population_size": 32, "species_elitism_min_size": 1},
                                      run={"generations": 20}, task={"name": "bandit5", "lifetimes": 10},
                                      learner={"active": "mean"}, substrate={"n_spaces": 3}),
    "cartpole-reversal": EplJobConfig().replace(neat={"population_size": 24, "species_elitism_min_size": 1},
                                                run={"generations": 10},
                                                task={"name": "cartpole-reversal", "observations": "pole",
                                                      "lifetimes": 4, "feedback_routing": "outcome"}),
    "lifetime-smoke": EplJobConfig().replace(neat={"population_size": 4},
                                             run={"generations": 2, "executor": "serial", "progress": False},
                                             task={"name": "bandit2", "lifetimes": 2, "pulls": 20,
                                                   "held_out_lifetimes": 4}, learner={"active": "mean"}),
}


def preset(name: str) -> EplJobConfig:
    """The preset ``name`` (see :data:`PRESETS`)."""
    if name not in PRESETS:
        close = difflib.get_close_matches(name, list(PRESETS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"Unknown preset {name!r}.{hint} Presets: {', '.join(sorted(PRESETS))}.")
    return PRESETS[name]


def job_config_from_dict(data: dict[str, Any], *, base: EplJobConfig | None = None) -> EplJobConfig:
    """Sections of nested dicts over ``base`` (default: :class:`EplJobConfig`'s defaults)."""
    base = base or EplJobConfig()
    for key in sorted(data):
        if key not in _SECTIONS:
            close = difflib.get_close_matches(key, list(_SECTIONS), n=1)
            hint = f" Did you mean [{close[0]}]?" if close else ""
            raise ConfigError(f"Unknown section [{key}].{hint} Valid sections: "
                              f"{', '.join(f'[{s}]' for s in _SECTIONS)}.")
    parts = {}
    for name, cls in _SECTIONS.items():
        section = data.get(name, {})
        if not isinstance(section, dict):
            raise ConfigError(f"[{name}] must be a table of keys. Got {section!r} instead.")
        merged = {**{f.name: getattr(getattr(base, name), f.name) for f in fields(cls)}, **section}
        try:
            parts[name] = _section_from_dict(cls, merged, name)
        except EplSysbioError as exc:
            raise ConfigError(f"[{name}]: {exc}") from None
        except TypeError as exc:
            raise ConfigError(f"[{name}]: {exc}") from None
    return EplJobConfig(**parts)


def load_job_config(path: str | Path, *, base: EplJobConfig | None = None) -> EplJobConfig:
    """Read a job config from TOML; keys it leaves out keep ``base``'s values."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"Config file {str(path)!r} does not exist; write one with job_config_to_toml() "
                          "or use --preset.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {str(path)!r} is not valid TOML: {exc}.") from exc
    return job_config_from_dict(data, base=base)


def job_config_to_toml(config: EplJobConfig) -> str:
    """TOML text that :func:`load_job_config` reads back to an equal config (every key written)."""
    return sections_to_toml(config, _SECTIONS)


#: Fields that do not change results: a run may be resumed with other values.
_NOT_RESULTS = {"run": ("generations", "progress", "plots", "executor", "workers", "scheduler", "time_limit")}


def job_config_hash(config: EplJobConfig) -> str:
    """SHA-256 of the fields that change results (``_NOT_RESULTS`` left out)."""
    data = {name: {k: v for k, v in dataclasses.asdict(getattr(config, name)).items()
                   if k not in _NOT_RESULTS.get(name, ())}
            for name in _SECTIONS}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=list).encode()).hexdigest()
