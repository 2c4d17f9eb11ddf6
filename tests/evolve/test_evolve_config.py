"""Config validation, TOML loading (typos, missing keys) and round trip."""

from __future__ import annotations

import pytest

from epl_sysbio.errors import ConfigError
from epl_sysbio.evolve import EvolveConfig, NeatConfig, RunConfig, config_hash, config_to_toml, load_config


def test_defaults_are_the_papers():
    c = NeatConfig()
    assert (c.population_size, c.c1, c.c2, c.c3, c.compatibility_threshold) == (150, 1.0, 1.0, 0.4, 3.0)
    assert (c.weight_mutation_rate, c.weight_perturb_fraction, c.add_node_rate, c.add_connection_rate) == (
        0.8, 0.9, 0.03, 0.05)
    assert (c.stagnation_generations, c.sigmoid_slope) == (15, 4.9)


def test_bad_value_uses_the_message_template():
    with pytest.raises(ConfigError, match=r"The 'c3' parameter of NeatConfig must be a float in \[0, inf\)\. "
                                          r"Got -1\.0 instead\."):
        NeatConfig(c3=-1.0)
    with pytest.raises(ValueError, match="'executor' parameter of RunConfig"):
        RunConfig(executor="threads")
    with pytest.raises(ConfigError, match="activations"):
        NeatConfig(activations=("sigmoid", "softmax"))
    with pytest.raises(TypeError):
        NeatConfig(3)  # keyword-only


def test_toml_round_trip(tmp_path):
    config = EvolveConfig(neat=NeatConfig(activations=("sin", "gauss"), n_inputs=4, n_outputs=2, c3=0.5),
                          run=RunConfig(seed=7, fitness_threshold=3.5, scheduler="tcp://127.0.0.1:8786"))
    path = tmp_path / "c.toml"
    path.write_text(config_to_toml(config))
    assert load_config(path) == config
    assert load_config(path, require_all=True) == config
    none = tmp_path / "n.toml"
    none.write_text(config_to_toml(EvolveConfig()))
    assert load_config(none).run.fitness_threshold is None


def test_unknown_key_names_the_closest_valid_key(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[neat]\npopulation_sise = 50\n")
    with pytest.raises(ConfigError, match="Unknown key 'population_sise' in \\[neat\\]. Did you mean 'population_size'"):
        load_config(path)
    path.write_text("[nat]\n")
    with pytest.raises(ConfigError, match=r"Did you mean \[neat\]"):
        load_config(path)


def test_missing_key_says_what_to_put(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(config_to_toml(EvolveConfig()).replace("c3 = 0.4\n", ""))
    with pytest.raises(ConfigError, match="Missing key 'c3' in \\[neat\\]; put e.g. 'c3 = 0.4'"):
        load_config(path, require_all=True)
    assert load_config(path).neat.c3 == 0.4  # partial files take defaults


def test_config_hash_ignores_horizon_and_display_only():
    base = EvolveConfig()
    assert config_hash(base) == config_hash(base.replace(run={"generations": 7, "progress": False,
                                                               "executor": "serial"}))
    assert config_hash(base) != config_hash(base.replace(run={"seed": 1}))
    assert config_hash(base) != config_hash(base.replace(neat={"c1": 2.0}))


def test_numpy_floats_in_a_config_are_written_as_toml_numbers(tmp_path):
    import numpy as np

    config = EvolveConfig(neat=NeatConfig(c3=np.float64(0.5)), run=RunConfig(fitness_threshold=np.float64(3.5)))
    path = tmp_path / "c.toml"
    path.write_text(config_to_toml(config))  # np.float64's repr, "np.float64(0.5)", is not TOML
    assert load_config(path) == config
