"""Every task class by name: :data:`TASKS` and :func:`make_task` (the episodic tasks of :mod:`.tasks` and the
lifetime tasks of :mod:`.lifetime_tasks`, which builds on it)."""

from __future__ import annotations

from .lifetime_tasks import Bandit2, Bandit5, CartPoleReversal
from .tasks import TASK_NAMES, CartPole, FrozenLake, Regression, Task, TaskConfig, Xor

__all__ = ["TASKS", "make_task"]

TASKS: dict[str, type[Task]] = {t.name: t for t in (CartPole, FrozenLake, Xor, Regression, Bandit2, Bandit5,
                                                    CartPoleReversal)}
assert tuple(TASKS) == TASK_NAMES, "a task class is missing from TASKS or TASK_NAMES"


def make_task(config: TaskConfig) -> Task:
    """The task ``config.name`` (gymnasium environments are created here, once per task object)."""
    return TASKS[config.name](config)
