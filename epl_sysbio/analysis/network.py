"""The species network of a compiled model, in concentration coordinates.

What the steady-state analyses share: the stoichiometry ``N`` (floating
species x reactions), the compartment volume ``V_i`` of each species, the
right-hand side ``F(c) = V^-1 N v(c)`` (``c`` concentrations, ``v`` reaction
rates in amount/time, as libRoadRunner and SBML give them), the elasticities
``dv/dc`` and an orthonormal basis ``Q`` of the directions the concentrations
can move in (``range(V^-1 N)``; its complement holds the conservation laws).

Everything is read from the :class:`~epl_sysbio.simulate.Engine` by id, so the
moiety-analysis species order never matters, and the reduction by ``Q`` is
the same with or without libRoadRunner's moiety analysis (BIOMD0000000009,
where libRoadRunner refuses it, is reduced here like any other model).

Elasticities are exact: the kinetic laws are differentiated symbolically
(:class:`~epl_sysbio.simulate.elasticities.Elasticities`) and the derivatives
are compiled into the rate evaluator, read in one call. Where that route
cannot apply (a function without a derivative rule, variable stoichiometry,
rules sizing a compartment, or a model whose derivatives would take
libRoadRunner minutes to compile) they are central differences of the rates,
and :attr:`SpeciesNetwork.elasticity_method` says which and why.

Rates are evaluated on a second compilation of the model *without* moiety
analysis: under moiety analysis libRoadRunner computes a dependent species as
``total - others``, which in BIOMD0000000569 (1e-16 L, species from 1e-21 to
1e-3 M) loses every digit of the small species, and a finite-difference step
on them then measures rounding (scaled control coefficients 30 % off).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from epl_sysbio.errors import UnsupportedModelError, format_ids
from epl_sysbio.simulate import Engine
from epl_sysbio.simulate.elasticities import Elasticities
from epl_sysbio.simulate.numerics import finite_difference_jacobian, range_and_null_space

__all__ = ["SpeciesNetwork"]


class SpeciesNetwork:
    """Stoichiometry, rates and elasticities of an engine's floating species.

    Parameters
    ----------
    engine : Engine
        A compiled model with reactions and floating species. Rate-rule
        variables are not species: models driven by rate rules (explicit ODEs)
        are refused, as COPASI's MCA refuses them.
    parameters : sequence of str
        Global parameters whose rate-law derivatives ``dv/dp`` are wanted as
        well (:meth:`linearization`; continuation uses them).

    Attributes
    ----------
    species : tuple of str
        Floating species ids (``engine.floating_ids`` order, without species set by
        assignment rules): rows of ``N``.
    reactions : tuple of str
        Reaction ids: columns of ``N``.
    stoichiometry : ndarray, shape (n_species, n_reactions)
        ``N``; rate of change of amounts is ``N @ v``.
    volumes : ndarray, shape (n_species,)
        Compartment volume of each species (the model's volume unit).
    basis : ndarray, shape (n_species, rank)
        Orthonormal basis ``Q`` of ``range(V^-1 N)`` (concentration space).
    laws : ndarray, shape (n_species, n_species - rank)
        Orthonormal basis of the complement: ``laws.T @ c`` is conserved.
    elasticity_method : str
        ``"exact"`` (symbolic derivatives) or ``"central differences: <why>"``.
    """

    #: Above this many non-zero rate-law derivatives the augmented model is not compiled
    #: (BIOMD0000000628: 1636 derivatives, 4 s to compile plainly, 508 s augmented).
    MAX_EXACT_DERIVATIVES = 1000

    def __init__(self, engine: Engine, parameters: Sequence[str] = ()) -> None:
        if engine.rate_rule_ids:
            raise UnsupportedModelError(
                f"Model {engine.model_id!r}: variables {format_ids(engine.rate_rule_ids)} are driven by rate rules "
                "(explicit ODEs), not reactions; stoichiometric analyses need species changed by reactions only. "
                "Use Engine.steady_state and Engine.eigenvalues for such models."
            )
        if not engine.floating_ids or not engine.reaction_ids:
            raise UnsupportedModelError(
                f"Model {engine.model_id!r} has {len(engine.floating_ids)} floating species and "
                f"{len(engine.reaction_ids)} reactions; the analysis needs at least one of each."
            )
        self.engine = engine
        ruled = set(engine.model.assignment_rule_variables)
        # species set by assignment rules are read-outs, not state (BIOMD0000000009)
        self.species = tuple(s for s in engine.floating_ids if s not in ruled)
        self._engine_index = np.array([engine.floating_ids.index(s) for s in self.species], dtype=int)
        self.reactions = engine.reaction_ids
        self.parameters = tuple(parameters)
        self._exact, self.elasticity_method = self._symbolic(engine)
        if self._exact is not None:
            self._eval = Engine(self._exact.model, options=engine.options, conserved_moiety_analysis=False)
        else:
            self._eval = Engine(engine.model, options=engine.options, conserved_moiety_analysis=False) \
                if engine.moiety_analysis else engine
        index = {s: i for i, s in enumerate(self._eval.floating_ids)}
        self._order = np.array([index[s] for s in self.species], dtype=np.int32)  # ours -> evaluator's order
        rate_index = {r: j for j, r in enumerate(self._eval.reaction_ids)}
        self._rate_order = np.array([rate_index[r] for r in self.reactions], dtype=int)
        self._writable = [p for p in engine.parameter_ids + engine.compartment_ids + engine.boundary_ids
                          if p not in ruled]
        stoich = self._eval.roadrunner.getFullStoichiometryMatrix()
        rows = {r: i for i, r in enumerate(stoich.rownames)}
        cols = {c: j for j, c in enumerate(stoich.colnames)}
        full = np.asarray(stoich)
        self.stoichiometry = np.zeros((len(self.species), len(self.reactions)))
        for i, sid in enumerate(self.species):
            if sid in rows:  # constant species have no row: they never change
                self.stoichiometry[i] = full[rows[sid], [cols[r] for r in self.reactions]]
        m = engine.roadrunner.model
        self.volumes = m.getCompartmentVolumes()[[m.getCompartmentIndexForFloatingSpecies(int(i))
                                                  for i in self._engine_index]]
        self.basis, self.laws = range_and_null_space(self.stoichiometry / self.volumes[:, None])
        if self._exact is not None:
            el = self._exact
            columns = {s: j for j, s in enumerate(el.state_ids + el.variables)}
            self._exact_columns = np.array([columns[s] for s in self.species], dtype=int)
            rows = {r: j for j, r in enumerate(el.reaction_ids)}
            self._exact_rows = np.array([rows[r] for r in self.reactions], dtype=int)
            # d/dc from d/d(symbol): the symbol is the amount c V for substance-only species
            self._exact_scale = np.array([v if s in el.substance_only else 1.0
                                          for s, v in zip(self.species, self.volumes)])
            self._exact_parameters = np.array([columns[p] for p in self.parameters], dtype=int)
            self._exact_state_block = np.ix_(self._exact_rows, self._exact_columns)
            self._exact_parameter_block = np.ix_(self._exact_rows, self._exact_parameters)

    def _symbolic(self, engine: Engine) -> tuple[Elasticities | None, str]:
        """Exact derivatives of the rate laws, or None and why not."""
        sbml = engine.model.sbml_model
        constant = [s for s in self.species if sbml.getSpecies(s).getConstant()]  # not state, still read
        try:
            exact = Elasticities(engine.model, [*constant, *self.parameters])
        except UnsupportedModelError as exc:
            return None, f"central differences: {exc}"
        if len(exact.derivative_ids) > self.MAX_EXACT_DERIVATIVES:
            return None, (f"central differences: {len(exact.derivative_ids)} non-zero rate-law derivatives, over "
                          f"{self.MAX_EXACT_DERIVATIVES} (libRoadRunner would take minutes to compile them)")
        return exact, "exact"

    # ------------------------------------------------------------ state access
    def concentrations(self) -> np.ndarray:
        """The engine's current concentrations ``c`` (``species`` order)."""
        return self.engine.roadrunner.model.getFloatingSpeciesConcentrations()[self._engine_index]

    def sync_parameters(self) -> None:
        """Copy parameter, compartment and boundary values and the model time from the engine to the rate evaluator
        (call after changing them on the engine; the analyses here do it themselves)."""
        if self._eval is not self.engine:
            rr = self.engine.roadrunner
            self._eval.set_values({p: rr.getValue(p) for p in self._writable})
            # rate laws and rules may read `time` (BIOMD0000000853's stimulus)
            self._eval.roadrunner.model.setTime(rr.model.getTime())

    def set_parameters(self, values: np.ndarray) -> None:
        """Write values of :attr:`parameters` (in that order) into the rate evaluator only
        (not the engine): the fast path of a continuation."""
        for pid, value in zip(self.parameters, values):
            self._eval.roadrunner.setValue(pid, float(value))

    def set_concentrations(self, c: np.ndarray) -> None:
        """Write all floating species concentrations into the rate evaluator (not the engine).

        Any real ``c`` is written (finite differences step below zero)."""
        amounts = np.zeros(len(self._eval.floating_ids))  # rule-defined species' entries are ignored
        amounts[self._order] = np.asarray(c, dtype=float) * self.volumes
        self._eval.write_amounts(amounts)

    def reaction_rates(self) -> np.ndarray:
        """Reaction rates ``v`` at the state last written by :meth:`set_concentrations` (amount/time)."""
        return self._eval.roadrunner.model.getReactionRates()[self._rate_order]

    def rates(self, c: np.ndarray) -> np.ndarray:
        """``F(c) = V^-1 N v(c)``: concentration rates at ``c``."""
        self.set_concentrations(c)
        return (self.stoichiometry @ self.reaction_rates()) / self.volumes

    def imbalance(self, c: np.ndarray) -> float:
        """``max_i |F_i| / (T_i + 1e-9 max T)`` with ``T_i = (|V^-1 N| |v|)_i`` the gross turnover
        of species i: net rate against gross rate, free of units and of the concentration
        scale (an absolute residual test passes trivially when every concentration is 1e-13 M,
        as in BIOMD0000000569); species turning over 1e9 times slower than the fastest are
        judged against the fastest."""
        self.set_concentrations(c)
        v = self.reaction_rates()
        net = (self.stoichiometry @ v) / self.volumes
        gross = (np.abs(self.stoichiometry) @ np.abs(v)) / self.volumes
        floor = 1e-9 * float(gross.max(initial=0.0))
        if floor == 0:
            return 0.0
        return float((np.abs(net) / (gross + floor)).max(initial=0.0))

    def elasticities(self, c: np.ndarray | None = None, *, sync: bool = True) -> np.ndarray:
        """Unscaled elasticities ``eps[j, i] = dv_j / dc_i``, shape (n_reactions, n_species).

        Units: amount/time per concentration. Exact (symbolic derivatives evaluated
        by libRoadRunner) unless :attr:`elasticity_method` says otherwise; then
        central differences of the rates (relative step 1e-5 of ``|c_i|``, floor
        1e-6 of the mean concentration; see
        :func:`~epl_sysbio.simulate.numerics.finite_difference_jacobian`).
        Parameters are synced from the engine first unless ``sync`` is False.
        """
        if sync:
            self.sync_parameters()
        c = self.concentrations() if c is None else np.asarray(c, dtype=float)
        self.set_concentrations(c)
        if self._exact is not None:
            d_state, d_var = self._exact.evaluate(self._eval.roadrunner)
            full = np.hstack([d_state, d_var])
            return full[np.ix_(self._exact_rows, self._exact_columns)] * self._exact_scale[None, :]
        return finite_difference_jacobian(c, self.reaction_rates(), self.set_concentrations, self.reaction_rates,
                                          central=True)

    def linearization(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``F(c)``, elasticities ``dv/dc`` and ``dv/dp`` for :attr:`parameters`, from one write of ``c``
        (parameters as last written to the evaluator; no sync from the engine).

        Returns ``f`` shape (n_species,), ``eps`` (n_reactions, n_species) as in
        :meth:`elasticities`, and ``eps_p`` (n_reactions, n_parameters) in
        amount/time per parameter unit: exact with :attr:`elasticity_method`
        ``"exact"``, otherwise central differences (relative step 1e-6 of ``|p|``,
        floor 1e-9).
        """
        c = np.asarray(c, dtype=float)
        self.set_concentrations(c)
        f = (self.stoichiometry @ self.reaction_rates()) / self.volumes
        if self._exact is not None:
            d_state, d_var = self._exact.evaluate(self._eval.roadrunner)
            full = np.hstack([d_state, d_var])
            eps = full[self._exact_state_block] * self._exact_scale[None, :]
            return f, eps, full[self._exact_parameter_block]
        eps = self.elasticities(c, sync=False)
        rr = self._eval.roadrunner
        eps_p = np.empty((len(self.reactions), len(self.parameters)))
        for k, pid in enumerate(self.parameters):
            p = float(rr.getValue(pid))
            h = 1e-6 * max(abs(p), 1e-3)
            rates = []
            for value in (p + h, p - h):
                rr.setValue(pid, value)
                rates.append(self.reaction_rates().copy())
            rr.setValue(pid, p)
            eps_p[:, k] = (rates[0] - rates[1]) / (2 * h)
        return f, eps, eps_p

    def jacobian(self, eps: np.ndarray) -> np.ndarray:
        """Full concentration Jacobian ``dF/dc = V^-1 N eps``."""
        return (self.stoichiometry @ eps) / self.volumes[:, None]

    def reduced_jacobian(self, eps: np.ndarray) -> np.ndarray:
        """``Q^T (V^-1 N eps) Q``: the Jacobian on the stoichiometric subspace (no conservation zeros)."""
        return self.basis.T @ self.jacobian(eps) @ self.basis

    def polish(self, c: np.ndarray, max_iter: int = 4) -> np.ndarray:
        """Newton steps on ``F(c) = 0`` within the conservation class of ``c``, every species held
        directly: ``c <- c + Q dz``, ``(Q^T J Q) dz = -Q^T F(c)``, while ``norm(F)`` falls.

        Under moiety analysis the engine computes a dependent species as ``total - others``;
        a species 1e-14 times smaller than its total (BIOMD0000000183) keeps only a few
        digits that way. Here each species is its own number, so small ones regain their
        digits; the conserved totals are untouched (``Q`` is orthogonal to the laws)."""
        c = np.asarray(c, dtype=float).copy()
        f = self.rates(c)
        for _ in range(max_iter):
            if self.basis.shape[1] == 0 or not np.any(f):
                break
            jac = self.reduced_jacobian(self.elasticities(c, sync=False))
            try:
                dz = np.linalg.solve(jac, -(self.basis.T @ f))
            except np.linalg.LinAlgError:
                break
            trial = c + self.basis @ dz
            f_trial = self.rates(trial)
            if not np.all(np.isfinite(f_trial)) or np.linalg.norm(f_trial) >= np.linalg.norm(f):
                break
            c, f = trial, f_trial
        self.set_concentrations(c)
        return c

