"""Exact rate-law derivatives, compiled into the model that libRoadRunner runs.

At construction the kinetic laws are differentiated symbolically
(:mod:`epl_sysbio.deq.symbolic`) with respect to every state species and
every named parameter; each non-zero derivative becomes a parameter
``_deq_e<k>`` defined by an assignment rule in an augmented copy of the
model. At a steady state all of them are read in one
``getGlobalParameterValues`` call: exact values (no finite differences), no
per-entry Python overhead, and evaluated by the same compiled code and at the
same state as the simulation. Parameters defined by assignment rules cost
libRoadRunner nothing while it integrates or solves: nothing in the right-hand
side reads them.

Units. Kinetic laws are in amount/time. A species symbol in a rate law is its
concentration ``a / V`` unless the species has only substance units, so
``dv/da = dv/d[S] / V``; :attr:`Elasticities.symbol_per_amount` holds that
factor (``1/V`` or 1) for each state species.
"""

from __future__ import annotations

from collections.abc import Sequence

import libsbml
import numpy as np

from epl_sysbio.deq.symbolic import Differentiator
from epl_sysbio.errors import UnsupportedModelError, format_ids
from epl_sysbio.model import Model

__all__ = ["Elasticities"]

_PREFIX = "_deq_e"


def _convert(doc: libsbml.SBMLDocument, option: str, where: str) -> None:
    props = libsbml.ConversionProperties()
    props.addOption(option, True)
    if doc.convert(props) != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise UnsupportedModelError(
            f"Model {where!r}: libsbml could not apply {option!r}: {doc.getErrorLog().toString()[:300]}"
        )


class Elasticities:
    """Symbolic derivatives of every rate law, evaluated by libRoadRunner.

    Parameters
    ----------
    model : Model
        The model; it is not modified.
    variables : sequence of str
        Non-state symbols (global parameters, boundary species) to
        differentiate with respect to, besides the state species.

    Attributes
    ----------
    model : Model
        The augmented copy (local parameters promoted to ``<reaction>_<id>``,
        function definitions expanded, derivative parameters added). Compile
        this one.
    state_ids : tuple of str
        The state species: floating, not constant, not defined by rules, in
        declaration order.
    reaction_ids : tuple of str
    stoichiometry : ndarray, shape (n_state, n_reactions)
        ``N``: ``da/dt = N v`` in amounts.
    species_compartment : dict
        Compartment id of every species.
    substance_only : set of str
        Species whose rate-law symbol is an amount (``hasOnlySubstanceUnits``).
    """

    def __init__(self, model: Model, variables: Sequence[str]) -> None:
        where = model.id
        doc = model.document.clone()
        _convert(doc, "promoteLocalParameters", where)
        _convert(doc, "expandFunctionDefinitions", where)
        sbml = doc.getModel()
        self._refuse_unsupported(sbml, model)
        rules = {r.getVariable(): r.getMath() for r in sbml.getListOfRules() if r.isAssignment()}
        self.species_compartment = {s.getId(): s.getCompartment() for s in sbml.getListOfSpecies()}
        self.substance_only = {s.getId() for s in sbml.getListOfSpecies() if s.getHasOnlySubstanceUnits()}
        self.state_ids = tuple(
            s.getId()
            for s in sbml.getListOfSpecies()
            if not s.getBoundaryCondition() and not s.getConstant() and s.getId() not in rules
        )
        self.reaction_ids = tuple(r.getId() for r in sbml.getListOfReactions())
        self.variables = tuple(variables)
        self.stoichiometry = self._stoichiometry(sbml, where)

        # One derivative parameter per non-zero entry of dv/d(state, variables).
        diff = Differentiator(rules, where)
        columns = self.state_ids + self.variables
        existing = {p.getId() for p in sbml.getListOfParameters()}
        rows, cols, ids = [], [], []
        for i, reaction in enumerate(sbml.getListOfReactions()):
            law = reaction.getKineticLaw()
            if law is None or law.getMath() is None:
                continue
            for j, var in enumerate(columns):
                text = diff.derivative(law.getMath(), var, reaction.getId())
                if text is None:
                    continue
                pid = f"{_PREFIX}{len(ids)}"
                while pid in existing:
                    pid = "_" + pid
                self._add_rule(sbml, pid, text, where)
                rows.append(i)
                cols.append(j)
                ids.append(pid)
        self.model = Model(doc, source=model.source)
        self.derivative_ids = tuple(ids)
        self._rows = np.array(rows, dtype=int)
        self._cols = np.array(cols, dtype=int)
        self._index: np.ndarray | None = None

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _refuse_unsupported(sbml: libsbml.Model, model: Model) -> None:
        problems = []
        if sbml.getNumEvents():
            problems.append(f"events {format_ids(model.event_ids)} (no steady state to differentiate)")
        rate_rules = [r.getVariable() for r in sbml.getListOfRules() if r.isRate()]
        if rate_rules:
            problems.append(f"rate rules on {format_ids(rate_rules)}")
        if any(r.isAlgebraic() for r in sbml.getListOfRules()):
            problems.append("algebraic rules")
        if model.uses_time:
            problems.append("rates that depend on time")
        ruled = {r.getVariable() for r in sbml.getListOfRules()}
        ruled_compartments = sorted(ruled & {c.getId() for c in sbml.getListOfCompartments()})
        if ruled_compartments:
            problems.append(f"compartments sized by rules {format_ids(ruled_compartments)}")
        if problems:
            raise UnsupportedModelError(
                f"Model {model.id!r} cannot be an equilibrium layer: it has " + "; ".join(problems)
                + ". The implicit gradient needs a steady state of an autonomous reaction network."
            )

    def _stoichiometry(self, sbml: libsbml.Model, where: str) -> np.ndarray:
        row = {s: i for i, s in enumerate(self.state_ids)}
        n_mat = np.zeros((len(self.state_ids), len(self.reaction_ids)))
        variable = []
        for j, reaction in enumerate(sbml.getListOfReactions()):
            for refs, sign in ((reaction.getListOfReactants(), -1.0), (reaction.getListOfProducts(), 1.0)):
                for ref in refs:
                    if ref.getSpecies() not in row:
                        continue
                    if ref.isSetStoichiometryMath() or (ref.getId() and sbml.getRule(ref.getId()) is not None):
                        variable.append(reaction.getId())
                        continue
                    stoich = ref.getStoichiometry() if ref.isSetStoichiometry() else 1.0
                    n_mat[row[ref.getSpecies()], j] += sign * stoich
        if variable:
            raise UnsupportedModelError(
                f"Model {where!r}: reactions {format_ids(variable)} have variable stoichiometry; "
                "the equilibrium layer needs constant stoichiometric coefficients."
            )
        return n_mat

    @staticmethod
    def _add_rule(sbml: libsbml.Model, pid: str, text: str, where: str) -> None:
        math = libsbml.parseL3FormulaWithModel(text, sbml)
        if math is None:
            raise UnsupportedModelError(
                f"Model {where!r}: internal error, derivative {text!r} does not parse: {libsbml.getLastParseL3Error()}"
            )
        p = sbml.createParameter()
        p.setId(pid)
        p.setConstant(False)
        p.setValue(0.0)
        rule = sbml.createAssignmentRule()
        rule.setVariable(pid)
        rule.setMath(math)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, rr) -> tuple[np.ndarray, np.ndarray]:
        """Rate-law derivatives at libRoadRunner's current state.

        Returns
        -------
        d_state : ndarray, shape (n_reactions, n_state)
            ``dv_r / d(symbol of state species j)``: per concentration, or per
            amount for substance-only species. Multiply column ``j`` by
            ``1/V_j`` for ``dv/da``.
        d_variables : ndarray, shape (n_reactions, n_variables)
            ``dv_r / d variable k``.
        """
        m = rr.model
        if self._index is None:
            # Indices are fixed for a compiled model; read the ids once (the handle is not cached).
            position = {p: i for i, p in enumerate(m.getGlobalParameterIds())}
            self._index = np.array([position[p] for p in self.derivative_ids], dtype=np.int32)
        n_state = len(self.state_ids)
        full = np.zeros((len(self.reaction_ids), n_state + len(self.variables)))
        if len(self._index):
            full[self._rows, self._cols] = m.getGlobalParameterValues(self._index)
        return full[:, :n_state], full[:, n_state:]
