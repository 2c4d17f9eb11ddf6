"""Steady states of SBML models as deep-equilibrium layers, with implicit gradients.

:class:`EquilibriumLayer` (NumPy) solves batched steady states and returns
``dy/dparams`` and ``dy/dinputs`` from :class:`ImplicitGradient`; the PyTorch
adapter :class:`MolecularLayer` (``torch`` extra) is imported on first use, so
``import epl_sysbio.deq`` does not import torch.
"""

from epl_sysbio.deq.elasticities import Elasticities
from epl_sysbio.deq.gradient import ImplicitGradient, Sensitivities
from epl_sysbio.deq.layer import EquilibriumLayer, LayerOptions, LayerOutput
from epl_sysbio.deq.training import TrainingOptions, TrainingResult, train_params

__all__ = [
    "Elasticities",
    "EquilibriumFunction",
    "EquilibriumLayer",
    "ImplicitGradient",
    "LayerOptions",
    "LayerOutput",
    "MolecularLayer",
    "Sensitivities",
    "TrainingOptions",
    "TrainingResult",
    "train_params",
]

_TORCH_NAMES = ("EquilibriumFunction", "MolecularLayer")


def __getattr__(name: str):
    if name in _TORCH_NAMES:
        from epl_sysbio.deq import torch_layer

        return getattr(torch_layer, name)
    raise AttributeError(f"module 'epl_sysbio.deq' has no attribute {name!r}")
