"""A steady state as a deep-equilibrium layer: batched forward, implicit gradients.

``y = EquilibriumLayer(model, inputs=..., outputs=..., params=...)(x)`` sets the
inputs of each sample, solves the steady state on one compiled model and
reads the outputs; with ``gradient=True`` it also returns ``dy/dparams`` and
``dy/dinputs`` from :class:`~epl_sysbio.deq.gradient.ImplicitGradient`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from epl_sysbio.deq.gradient import ImplicitGradient
from epl_sysbio.errors import (
    ConfigError,
    InvalidValueError,
    ModelLoadError,
    SteadyStateError,
    UnknownIdError,
    UnsupportedModelError,
    InstanceOf,
    Options,
    check_parameter,
    format_ids,
    validate_fields,
)
from epl_sysbio.model import Model
from epl_sysbio.simulate import Engine, SteadyStateOptions, Status
from epl_sysbio.simulate.elasticities import Elasticities
from epl_sysbio.simulate.stability import classify_eigenvalues

__all__ = ["EquilibriumLayer", "LayerOptions", "LayerOutput"]


@dataclass(frozen=True, kw_only=True)
class LayerOptions:
    """Settings of :class:`EquilibriumLayer`.

    Parameters
    ----------
    start : {"reset", "warm"}
        ``"reset"``: every sample starts from the model's initial state (results
        do not depend on the order of samples). ``"warm"``: from the previous
        sample's steady state (faster along smooth paths; a failed warm solve
        is retried from the initial state). ``"warm"`` is refused when a
        species amount is an input: its conserved totals must come from the
        initial state, not from the previous sample.
    steady_state : SteadyStateOptions
        Tolerances of the solve. Stability is judged from the eigenvalues of
        the exact reduced Jacobian (``eigen_rtol`` applies); with
        ``stability=False`` every converged sample is ``unchecked`` and counts
        as a success (``ok``).
    """

    start: str = "reset"
    steady_state: SteadyStateOptions = field(default_factory=SteadyStateOptions)

    def __post_init__(self) -> None:
        validate_fields(self, {"start": Options("reset", "warm"), "steady_state": InstanceOf(SteadyStateOptions)},
                        error=ConfigError)


@dataclass(frozen=True)
class LayerOutput:
    """One batched forward pass.

    Attributes
    ----------
    values : ndarray, shape (B, k)
        Outputs; NaN exactly where ``ok`` is False.
    status : tuple of Status
        Per sample: ``stable`` (ok), ``unchecked`` (ok; stability checking
        off), ``unstable``, ``marginal``, ``not_converged`` or ``unsupported``.
    ok : ndarray of bool, shape (B,)
        A stable (or, with checking off, unchecked) steady state was reached;
        only these rows carry values and gradients.
    messages : tuple of str
        Per sample, how the solve went (or why it failed).
    d_params : ndarray, shape (B, k, p), or None
        ``dy/dparams`` (NaN rows where not ok); None unless ``gradient=True``.
    d_inputs : ndarray, shape (B, k, n_in), or None
        ``dy/dinputs``, likewise.
    """

    values: np.ndarray
    status: tuple[Status, ...]
    ok: np.ndarray
    messages: tuple[str, ...]
    d_params: np.ndarray | None = None
    d_inputs: np.ndarray | None = None

    def require_ok(self) -> LayerOutput:
        """Return self, or raise :class:`SteadyStateError` naming the failed samples."""
        bad = np.flatnonzero(~self.ok)
        if bad.size:
            shown = "; ".join(f"sample {i}: {self.status[i].value}: {self.messages[i]}" for i in bad[:5])
            raise SteadyStateError(
                f"{bad.size} of {self.ok.size} samples reached no stable steady state ({shown}"
                + (" ..." if bad.size > 5 else "") + "). Change the inputs or parameters, or mask these samples."
            )
        return self


def _base(sid: str) -> tuple[str, bool]:
    """('S', is_concentration) for 'S' or '[S]'."""
    if sid.startswith("[") and sid.endswith("]"):
        return sid[1:-1], True
    return sid, False


def _refuse_non_autonomous(model: Model) -> None:
    """Events and time-dependent rates leave no steady state to differentiate (the other
    refusals, rate and algebraic rules etc., come from :class:`Elasticities`)."""
    problems = []
    if model.event_ids:
        problems.append(f"events {format_ids(model.event_ids)} (no steady state to differentiate)")
    if model.uses_time:
        problems.append("rates that depend on time")
    if problems:
        raise UnsupportedModelError(
            f"Model {model.id!r} cannot be an equilibrium layer: it has " + "; ".join(problems)
            + ". The implicit gradient needs a steady state of an autonomous reaction network."
        )


class EquilibriumLayer:
    """An SBML model as a deep-equilibrium layer.

    Parameters
    ----------
    model : Model or str
        The network (a :class:`~epl_sysbio.model.Model` or SBML text).
    inputs : sequence of str
        Set from data, one column of ``x`` each: floating species (``"S"``
        amount or ``"[S]"`` concentration, written into the initial state, so
        they move the conserved totals), boundary species (``"B"`` / ``"[B]"``)
        or global parameters.
    outputs : sequence of str
        Read at the steady state: floating species (``"S"`` amount, ``"[S]"``
        concentration) or reaction ids (flux, amount/time).
    params : sequence of str
        Trainable global parameters; their values start at the model's.
    options : LayerOptions, optional

    Examples
    --------
    >>> layer = EquilibriumLayer(model, inputs=["u"], outputs=["[Xp]"], params=["Km_kin"])
    >>> out = layer.forward(np.array([[0.5], [1.5]]), gradient=True)
    >>> out.values.shape, out.d_params.shape
    ((2, 1), (2, 1, 1))
    """

    def __init__(
        self,
        model: Model | str,
        *,
        inputs: Sequence[str],
        outputs: Sequence[str],
        params: Sequence[str],
        options: LayerOptions | None = None,
    ) -> None:
        if isinstance(model, str):
            model = Model.from_sbml(model, source="<layer sbml>")
        check_parameter("EquilibriumLayer", "model", isinstance(model, Model), "a Model or SBML text", model,
                        error=ModelLoadError)
        check_parameter("EquilibriumLayer", "options", options is None or isinstance(options, LayerOptions),
                        "a LayerOptions or None", options, error=ConfigError)
        self.options = options or LayerOptions()
        for name, ids in (("inputs", inputs), ("outputs", outputs), ("params", params)):
            ok = isinstance(ids, Sequence) and not isinstance(ids, str) and all(isinstance(i, str) for i in ids)
            check_parameter("EquilibriumLayer", name, ok, "a list of id strings", ids)
        self.input_ids = tuple(inputs)
        self.output_ids = tuple(outputs)
        self.param_ids = tuple(params)
        self.model_id = model.id
        self._check_ids(model)
        self._input_kind = [self._classify_input(model, sid) for sid in self.input_ids]
        if self.options.start == "warm" and "species" in self._input_kind:
            species = [s for s, k in zip(self.input_ids, self._input_kind) if k == "species"]
            raise ConfigError(
                f"Model {model.id!r}: LayerOptions(start='warm') with species inputs {format_ids(species)}: their "
                "conserved totals must come from the initial state. Use start='reset'."
            )
        # Non-state symbols to differentiate by: the params, then parameter/boundary inputs.
        self._input_variable = [_base(s)[0] for s, k in zip(self.input_ids, self._input_kind) if k != "species"]
        _refuse_non_autonomous(model)
        self.elasticities = Elasticities(model, self.param_ids + tuple(self._input_variable))
        el = self.elasticities
        self.engine = Engine(el.model, options=dataclasses.replace(self.options.steady_state, stability=False))
        self._params = self.engine.get_values(self.param_ids) if self.param_ids else np.zeros(0)
        self._build_maps(model)

    # ------------------------------------------------------------------ construction
    def _check_ids(self, model: Model) -> None:
        for name, ids in (("inputs", self.input_ids), ("outputs", self.output_ids), ("params", self.param_ids)):
            dup = {i for i in ids if ids.count(i) > 1}
            if dup:
                raise InvalidValueError(f"Model {model.id!r}: {name} lists {format_ids(dup)} more than once. List each id once.")
        both = {_base(s)[0] for s in self.input_ids} & set(self.param_ids)
        if both:
            raise InvalidValueError(
                f"Model {model.id!r}: {format_ids(both)} are both inputs and params. An id is either set from data or trained."
            )
        if not self.output_ids:
            raise InvalidValueError(f"Model {model.id!r}: outputs is empty. Name at least one species or reaction.")
        unknown = [s for s in self.input_ids + self.output_ids + self.param_ids if not model.has_id(_base(s)[0])]
        if unknown:
            raise UnknownIdError(
                f"Model {model.id!r}: unknown ids {format_ids(unknown)}. Species: {format_ids(model.species_ids, 12)}; "
                f"parameters: {format_ids(model.parameter_ids, 12)}; reactions: {format_ids(model.reaction_ids, 12)}."
            )
        ruled = set(model.assignment_rule_variables)
        bad = [p for p in self.param_ids if p not in model.parameter_ids or p in ruled]
        if bad:
            raise InvalidValueError(
                f"Model {model.id!r}: params {format_ids(bad)} are not free global parameters (species, compartments, "
                "local or rule-defined parameters cannot be trained). Name global parameters without assignment rules."
            )

    @staticmethod
    def _classify_input(model: Model, sid: str) -> str:
        base, _ = _base(sid)
        sp = model.sbml_model.getSpecies(base)
        ruled = set(model.assignment_rule_variables)
        if base in ruled:
            raise InvalidValueError(f"Model {model.id!r}: input {sid!r} is defined by an assignment rule and cannot be set.")
        if sp is not None:
            return "boundary" if sp.getBoundaryCondition() or sp.getConstant() else "species"
        if base in model.parameter_ids:
            return "parameter"
        raise UnsupportedModelError(
            f"Model {model.id!r}: input {sid!r} is a compartment or reaction. Inputs are species, boundary species "
            "or global parameters."
        )

    def _build_maps(self, model: Model) -> None:
        el, eng = self.elasticities, self.engine
        n, n_reactions = len(el.state_ids), len(el.reaction_ids)
        state_pos = {s: i for i, s in enumerate(el.state_ids)}
        volume = {c: float(v) for c, v in zip(model.compartment_ids, eng.get_values(model.compartment_ids))}
        self._volumes = np.array([volume[el.species_compartment[s]] for s in el.state_ids])
        # dv/da = dv/d(symbol) * symbol_per_amount: 1/V for concentration symbols.
        self._symbol_per_amount = np.array(
            [1.0 if s in el.substance_only else 1.0 / self._volumes[i] for i, s in enumerate(el.state_ids)]
        )
        floating = {s: i for i, s in enumerate(eng.floating_ids)}
        self._state_in_engine = np.array([floating[s] for s in el.state_ids], dtype=int)
        reaction_pos = {r: i for i, r in enumerate(el.reaction_ids)}
        out_state, out_flux = np.zeros((len(self.output_ids), n)), np.zeros((len(self.output_ids), n_reactions))
        bad = []
        for k, sid in enumerate(self.output_ids):
            base, conc = _base(sid)
            if base in state_pos:
                i = state_pos[base]
                out_state[k, i] = 1.0 / self._volumes[i] if conc else 1.0
            elif base in reaction_pos and not conc:
                out_flux[k, reaction_pos[base]] = 1.0
            else:
                bad.append(sid)
        if bad:
            raise InvalidValueError(
                f"Model {model.id!r}: outputs {format_ids(bad)} are neither state species nor reactions. Outputs are "
                f"'S' (amount) or '[S]' (concentration) of {format_ids(el.state_ids, 12)}, or reaction ids (flux)."
            )
        self._out_state, self._out_flux = out_state, out_flux
        self._flux_outputs = np.flatnonzero(out_flux.any(axis=1))
        species_inputs = np.zeros((n, self._input_kind.count("species")))
        # How each input column enters: ("species", column of S) or ("variable", column of dv/dp, d symbol/d input).
        self._input_route: list[tuple[str, int, float]] = []
        n_p, q = len(self.param_ids), 0
        for sid, kind in zip(self.input_ids, self._input_kind):
            base, conc = _base(sid)
            if kind == "species":
                i = state_pos[base]
                species_inputs[i, q] = self._volumes[i] if conc else 1.0  # d a0 / d input
                self._input_route.append(("species", q, 1.0))
                q += 1
                continue
            j = n_p + self._input_variable.index(base)
            factor = 1.0
            if kind == "boundary":
                v = volume[model.sbml_model.getSpecies(base).getCompartment()]
                symbol_is_amount = base in el.substance_only
                factor = (v if symbol_is_amount else 1.0) if conc else (1.0 if symbol_is_amount else 1.0 / v)
            self._input_route.append(("variable", j, factor))
        self.gradient_rule = ImplicitGradient(el.stoichiometry, species_inputs, out_state, out_flux)

    # ------------------------------------------------------------------ parameters
    @property
    def params(self) -> np.ndarray:
        """Current values of the trainable parameters, in ``param_ids`` order (a copy)."""
        return self._params.copy()

    def set_params(self, values: Sequence[float] | np.ndarray) -> None:
        """Set the trainable parameters (array in ``param_ids`` order)."""
        try:
            values = np.asarray(values, dtype=float).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise InvalidValueError(f"Model {self.model_id!r}: params must be numbers for {list(self.param_ids)} "
                                    f"({exc}).") from None
        if values.shape != (len(self.param_ids),):
            raise InvalidValueError(
                f"Model {self.model_id!r}: params must have shape ({len(self.param_ids)},) for "
                f"{list(self.param_ids)}. Got shape {values.shape} instead."
            )
        if not np.all(np.isfinite(values)):
            raise InvalidValueError(f"Model {self.model_id!r}: params must be finite. Got {values.tolist()!r} instead.")
        self.engine.set_values(dict(zip(self.param_ids, values.tolist())))
        self._params = values.copy()

    # ------------------------------------------------------------------ forward
    def forward(self, x: np.ndarray, *, params: np.ndarray | None = None, gradient: bool = False) -> LayerOutput:
        """Steady-state outputs for a batch of inputs.

        Parameters
        ----------
        x : array, shape (B, n_in) or (n_in,)
            Input values, columns in ``input_ids`` order.
        params : array, shape (p,), optional
            New values of the trainable parameters (they stay set).
        gradient : bool
            Also return ``d_params`` and ``d_inputs``.
        """
        try:
            x = np.asarray(x, dtype=float)
        except (TypeError, ValueError) as exc:
            raise InvalidValueError(f"Model {self.model_id!r}: x must be numbers, shape (B, {len(self.input_ids)}) "
                                    f"for inputs {list(self.input_ids)} ({exc}).") from None
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != len(self.input_ids):
            raise InvalidValueError(
                f"Model {self.model_id!r}: x must have shape (B, {len(self.input_ids)}) for inputs "
                f"{list(self.input_ids)}. Got shape {x.shape} instead."
            )
        if params is not None:
            self.set_params(params)
        b, k = x.shape[0], len(self.output_ids)
        values = np.full((b, k), np.nan)
        ok = np.zeros(b, dtype=bool)
        d_params = np.full((b, k, len(self.param_ids)), np.nan) if gradient else None
        d_inputs = np.full((b, k, len(self.input_ids)), np.nan) if gradient else None
        statuses, messages = [], []
        for i in range(b):
            status, message = self._solve(dict(zip(self.input_ids, x[i].tolist())))
            if status is Status.UNCHECKED:  # converged; the layer judges stability itself
                status, message = self._sample(i, values, d_params, d_inputs, message)
            ok[i] = status in (Status.STABLE, Status.UNCHECKED)
            if not ok[i]:
                values[i] = np.nan
            statuses.append(status)
            messages.append(message)
        return LayerOutput(values, tuple(statuses), ok, tuple(messages), d_params, d_inputs)

    __call__ = forward

    def _solve(self, sample: dict[str, float]) -> tuple[Status, str]:
        """One steady state; a failed warm start is retried from the initial state."""
        start = "current" if self.options.start == "warm" else "reset"
        result = self.engine.steady_state(sample, start=start)
        if not result.converged and start == "current":
            result = self.engine.steady_state(sample, start="reset")
        # The engine skips its own stability check (status `unchecked`); the layer judges it on the
        # exact Jacobian.
        return result.status, result.message

    def _sample(self, i, values, d_params, d_inputs, message) -> tuple[Status, str]:
        """Outputs (and gradients) of sample ``i`` at the converged state; its status."""
        m = self.engine.roadrunner.model
        amounts = m.getFloatingSpeciesAmounts()[self._state_in_engine]
        y = self._out_state @ amounts
        if len(self._flux_outputs):
            y = y + self._out_flux @ m.getReactionRates()
        d_state, d_var = self.elasticities.evaluate(self.engine.roadrunner)
        dv_da = d_state * self._symbol_per_amount[None, :]
        sens = None
        if d_params is not None:
            try:
                sens = self.gradient_rule(dv_da, d_var, self._volumes)
            except np.linalg.LinAlgError:
                return Status.MARGINAL, message + "; the reduced Jacobian is singular: no implicit gradient"
        if self.options.steady_state.stability:
            eigenvalues = sens.eigenvalues if sens is not None else self.gradient_rule.eigenvalues(dv_da)
            status = classify_eigenvalues(eigenvalues, self.options.steady_state.eigen_rtol)
            if status is not Status.STABLE:
                top = float(np.max(eigenvalues.real))
                return status, message + f"; {status.value}: max Re(lambda) = {top:.3g} (exact reduced Jacobian)"
            message += "; stable (exact reduced Jacobian)"
        values[i] = y
        if d_params is not None:
            n_p = len(self.param_ids)
            d_params[i] = sens.d_variables[:, :n_p]
            for j, (route, col, factor) in enumerate(self._input_route):
                source = sens.d_species_inputs if route == "species" else sens.d_variables
                d_inputs[i, :, j] = source[:, col] * factor
        return (Status.STABLE if self.options.steady_state.stability else Status.UNCHECKED), message

    def __repr__(self) -> str:
        return (
            f"EquilibriumLayer({self.model_id!r}, inputs={list(self.input_ids)}, outputs={list(self.output_ids)}, "
            f"params={list(self.param_ids)})"
        )
