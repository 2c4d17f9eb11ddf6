"""epl_sysbio.analysis: steady-state and bifurcation analysis of SBML models (the paper studies are
:mod:`epl_sysbio.papers`)."""

from epl_sysbio.analysis.continuation import ContinuationOptions, promote_local_parameters
from epl_sysbio.analysis.continuation_diagram import (
    BifurcationCurve,
    ContinuationResult,
    SpecialPoint,
    TwoParameterResult,
    continue_equilibria,
    continue_two_parameters,
    parse_continuation,
    parse_continuation2,
)
from epl_sysbio.analysis.mca import ControlCoefficients, control_coefficients
from epl_sysbio.analysis.multistart import FoundSteadyState, MultiStartResult, find_steady_states
from epl_sysbio.analysis.network import SpeciesNetwork
from epl_sysbio.analysis.report import AnalysisReport, analyze_model, write_report
from epl_sysbio.analysis.scan import (
    Branch,
    Fold,
    Scan2DResult,
    ScanOptions,
    ScanResult,
    parse_scan,
    scan_1d,
    scan_2d,
)
from epl_sysbio.analysis.speed_potential import SpeedPotentialResult, speed_potential_steady_state
from epl_sysbio.analysis.stability import StabilityOptions, StabilityReport, classify_fixed_point, stability

__all__ = [
    # steady-state analysis
    "AnalysisReport",
    "Branch",
    "ControlCoefficients",
    "Fold",
    "FoundSteadyState",
    "MultiStartResult",
    "Scan2DResult",
    "ScanOptions",
    "ScanResult",
    "SpeciesNetwork",
    "SpeedPotentialResult",
    "StabilityOptions",
    "StabilityReport",
    "analyze_model",
    "classify_fixed_point",
    "control_coefficients",
    "find_steady_states",
    "parse_scan",
    "scan_1d",
    "scan_2d",
    "speed_potential_steady_state",
    "stability",
    "write_report",
    # bifurcation analysis (continuation)
    "BifurcationCurve",
    "ContinuationOptions",
    "ContinuationResult",
    "SpecialPoint",
    "TwoParameterResult",
    "continue_equilibria",
    "continue_two_parameters",
    "parse_continuation",
    "parse_continuation2",
    "promote_local_parameters",
]
