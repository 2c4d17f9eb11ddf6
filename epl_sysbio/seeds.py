"""One way to make seeds: every seed the package derives is a pure function of a parent seed and keys."""

from __future__ import annotations

import numpy as np

__all__ = ["derive_seed"]


def derive_seed(seed: int, *keys: int) -> int:
    """A 32-bit seed that is a pure function of ``seed`` and ``keys`` (``SeedSequence([seed, *keys])``).

    The generation loop seeds individual ``i`` of generation ``g`` with
    ``derive_seed(run_seed, g, i)``; tasks derive episode and lifetime seeds
    from that one the same way.
    """
    return int(np.random.SeedSequence([seed, *keys]).generate_state(1, np.uint32)[0])
