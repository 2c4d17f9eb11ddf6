"""Fixtures of the dynamics tests."""

import numpy as np
import pytest
from rds_fixtures import small_spec

from epl_sysbio.dynamics import RdsSpec


@pytest.fixture
def spec() -> RdsSpec:
    return small_spec()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261122)
