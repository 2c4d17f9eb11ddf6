"""epl_sysbio.papers: the two self-contained paper studies.

- :mod:`epl_sysbio.papers.edge_of_chaos`: random networks ``dx/dt = -x + J tanh(x)``,
  their speed potential, mean-field theory and the transition to chaos
  (``analysis/edge_of_chaos.py`` runs it);
- :mod:`epl_sysbio.papers.correspondence`: the correspondence of conditioned
  mutation (neuroevolution) and gradient descent
  (``analysis/neuroevolution_vs_gd.py`` runs it).

Neither uses SBML or libRoadRunner; the analysis of SBML models is :mod:`epl_sysbio.analysis`.
"""

from epl_sysbio.papers.correspondence import (
    BatchLoss,
    MutationEnsemble,
    TanhNetwork,
    delta,
    gradient_descent,
    mutation_step,
    run_conditioned_mutation,
    time_matched_sigma,
)
from epl_sysbio.papers.edge_of_chaos import (
    LangevinOptions,
    LangevinResult,
    MeanFieldSolution,
    SimulationOptions,
    TransitionEstimate,
    coupling_matrix,
    elliptic_spectrum_edge,
    estimate_transition,
    fixed_point_order_parameters,
    langevin_speed_potential,
    mean_field,
    minimise_speed_potential,
    simulate_activity,
    spectrum_edge,
    speed,
    speed_potential,
    speed_potential_gradient,
)

__all__ = [
    # correspondence
    "BatchLoss",
    "MutationEnsemble",
    "TanhNetwork",
    "delta",
    "gradient_descent",
    "mutation_step",
    "run_conditioned_mutation",
    "time_matched_sigma",
    # edge_of_chaos
    "LangevinOptions",
    "LangevinResult",
    "MeanFieldSolution",
    "SimulationOptions",
    "TransitionEstimate",
    "coupling_matrix",
    "elliptic_spectrum_edge",
    "estimate_transition",
    "fixed_point_order_parameters",
    "langevin_speed_potential",
    "mean_field",
    "minimise_speed_potential",
    "simulate_activity",
    "spectrum_edge",
    "speed",
    "speed_potential",
    "speed_potential_gradient",
]
