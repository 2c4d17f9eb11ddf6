"""The :class:`Model`: an SBML model to load, validate, edit and export.

A Model holds a libsbml document. It pickles as SBML text, so it can be sent to
worker processes. Loading never guesses whether a string is a path: there is one
constructor per source.

Loading flattens hierarchical (``comp``) models (ids: see
:mod:`epl_sysbio.model.hierarchy`) and defines Level 2 unit names a Level 3
file uses without defining them; exporting converts to SBML Level 3 Version 2
and settles what that conversion leaves invalid or mishandled (see
:mod:`epl_sysbio.model.levels`). :attr:`Model.notes` says what loading changed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import libsbml

from epl_sysbio.errors import (
    FileAccessError,
    InvalidValueError,
    ModelFileNotFoundError,
    ModelLoadError,
    ModelValidationError,
    UnknownIdError,
    checked_number,
    format_ids,
)
from epl_sysbio.files import atomic_write_text, describe_os_error
from epl_sysbio.model.convert import antimony_to_sbml, read_sbml_document, sbml_to_antimony
from epl_sysbio.limits import DEFAULT_LIMITS, LoadLimits, check_size
from epl_sysbio.model.hierarchy import flatten_hierarchy, is_hierarchical
from epl_sysbio.model.levels import convert_for_export, define_level2_unit_names
from epl_sysbio.model.validation import ValidationReport, validate_document

__all__ = ["Model", "load_model", "LoadLimits"]

_SBML_SUFFIXES = {".xml", ".sbml"}
_ANTIMONY_SUFFIXES = {".ant", ".antimony", ".txt", ".tel"}


def _read_file(path: str | os.PathLike, limits: LoadLimits) -> tuple[str, str]:
    """The UTF-8 text of a model file, its size checked before it is read."""
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidValueError(f"A model file path must be a str or os.PathLike. Got {path!r} "
                                f"({type(path).__name__}) instead.")
    p = Path(path)
    if not p.exists():
        raise ModelFileNotFoundError(f"Model file {str(p)!r} does not exist. Check the path.")
    if not p.is_file():
        raise ModelFileNotFoundError(f"Model path {str(p)!r} is not a file. Give a .xml or .ant file.")
    try:
        check_size(p.stat().st_size, limits, str(p), "model file")
        text = p.read_bytes().decode("utf-8")
    except OSError as exc:
        raise FileAccessError(f"Cannot read model file {str(p)!r}: {describe_os_error(exc)}. "
                              "Check its permissions.") from None
    except UnicodeDecodeError as exc:
        raise ModelLoadError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
    if not text.strip():
        raise ModelLoadError(f"{p}: the file is empty. Give a file holding an SBML or Antimony model.")
    return text, str(p)


class Model:
    """An SBML model.

    Construct with :meth:`from_antimony`, :meth:`from_antimony_file`,
    :meth:`from_sbml`, :meth:`from_sbml_file`, :meth:`from_omex` or :meth:`from_roadrunner`.
    Loading checks libsbml consistency and raises :class:`ModelValidationError`
    (listing severity, element id and line) when there are errors; pass
    ``validate=False`` to load anyway and call :meth:`validate` yourself.

    Every constructor checks ``limits`` (:class:`~epl_sysbio.limits.LoadLimits`:
    size, nesting depth, element count) before a native parser sees the text,
    and the model keeps them for its later re-parses. Antimony ``import`` is
    refused unless a file loader is given ``allow_imports=True``, which allows
    files below the model file's own directory (:mod:`~epl_sysbio.model.imports`);
    SBML external model definitions are read only next to a model file
    (:mod:`~epl_sysbio.model.hierarchy`).

    Attributes
    ----------
    notes : tuple of str
        What loading changed in the document: a hierarchical model flattened,
        Level 2 unit names defined. Empty for most models.
    """

    def __init__(
        self, document: libsbml.SBMLDocument, *, source: str = "<model>", notes: Iterable[str] = (),
        limits: LoadLimits = DEFAULT_LIMITS,
    ) -> None:
        if document.getModel() is None:
            raise ModelLoadError(f"{source}: the SBML document has no model.")
        self._doc = document
        self.source = source
        self.notes = tuple(notes)
        self.limits = limits

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_sbml(cls, text: str, *, validate: bool = True, source: str = "<sbml string>",
                  limits: LoadLimits = DEFAULT_LIMITS) -> Model:
        """Load SBML text (any level/version libsbml reads).

        A hierarchical model that names external model files must be loaded
        with :meth:`from_sbml_file`, which resolves them next to the file.
        """
        return cls._load_sbml(text, validate=validate, source=source, path=None, limits=limits)

    @classmethod
    def from_sbml_file(cls, path: str | os.PathLike, *, validate: bool = True,
                       limits: LoadLimits = DEFAULT_LIMITS) -> Model:
        """Load an SBML file (external model definitions resolve inside its directory)."""
        text, source = _read_file(path, limits)
        return cls._load_sbml(text, validate=validate, source=source, path=Path(path), limits=limits)

    @classmethod
    def _load_sbml(cls, text: str, *, validate: bool, source: str, path: Path | None,
                   limits: LoadLimits = DEFAULT_LIMITS) -> Model:
        doc = read_sbml_document(text, source, limits=limits)
        notes: list[str] = []
        if is_hierarchical(doc):
            doc, flattened = flatten_hierarchy(doc, path=path, source=source)
            notes += flattened
        notes += define_level2_unit_names(doc)
        model = cls(doc, source=source, notes=notes, limits=limits)
        if validate:
            model._raise_if_invalid()
        return model

    @classmethod
    def from_antimony(cls, text: str, *, validate: bool = True, source: str = "<antimony string>",
                      limits: LoadLimits = DEFAULT_LIMITS) -> Model:
        """Load Antimony text (its main module); ``import`` is refused (there is no model directory)."""
        return cls.from_sbml(antimony_to_sbml(text, source, limits=limits), validate=validate, source=source,
                             limits=limits)

    @classmethod
    def from_antimony_file(cls, path: str | os.PathLike, *, validate: bool = True,
                           limits: LoadLimits = DEFAULT_LIMITS, allow_imports: bool = False) -> Model:
        """Load an Antimony file; with ``allow_imports``, it may import files below its own directory."""
        text, source = _read_file(path, limits)
        sbml = antimony_to_sbml(text, source, limits=limits, imports_from=Path(path) if allow_imports else None)
        return cls.from_sbml(sbml, validate=validate, source=source, limits=limits)

    @classmethod
    def from_omex(cls, path: str | os.PathLike, *, location: str | None = None, validate: bool = True,
                  limits: LoadLimits = DEFAULT_LIMITS) -> Model:
        """The SBML model of a COMBINE/OMEX archive: its master SBML file, or the one at ``location``.

        See :meth:`epl_sysbio.model.omex.OmexArchive.model_location` for how the model is chosen.
        """
        from epl_sysbio.model.omex import OmexArchive

        archive = OmexArchive(path, limits=limits)
        where = archive.model_location() if location is None else location
        return cls.from_sbml(archive.text(where), validate=validate, source=f"{archive.path}:{where}", limits=limits)

    @classmethod
    def from_roadrunner(cls, rr: object, *, validate: bool = True) -> Model:
        """Take the current SBML of a ``roadrunner.RoadRunner`` (what ``tellurium.loada`` returns).

        The current values (not the initial ones) become the model's values, as
        libRoadRunner's ``getCurrentSBML`` reports them.
        """
        get = getattr(rr, "getCurrentSBML", None)
        if get is None:
            raise ModelLoadError(
                f"from_roadrunner expects a roadrunner.RoadRunner (e.g. from tellurium.loada); "
                f"got {type(rr).__name__}."
            )
        return cls.from_sbml(get(), validate=validate, source="<roadrunner>")

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict:
        return {"sbml": libsbml.writeSBMLToString(self._doc), "source": self.source, "notes": self.notes,
                "limits": self.limits}

    def __setstate__(self, state: dict) -> None:
        self.limits = state.get("limits", DEFAULT_LIMITS)
        self._doc = read_sbml_document(state["sbml"], state["source"], limits=self.limits)
        self.source = state["source"]
        self.notes = tuple(state.get("notes", ()))

    def copy(self) -> Model:
        return Model(self._doc.clone(), source=self.source, notes=self.notes, limits=self.limits)

    def __repr__(self) -> str:
        return (
            f"Model(id={self.id!r}, species={len(self.species_ids)}, "
            f"reactions={len(self.reaction_ids)}, source={self.source!r})"
        )

    # ------------------------------------------------------------------ queries
    @property
    def document(self) -> libsbml.SBMLDocument:
        """The underlying libsbml document (edits through it bypass this class's checks)."""
        return self._doc

    @property
    def sbml_model(self) -> libsbml.Model:
        return self._doc.getModel()

    @property
    def id(self) -> str:
        m = self.sbml_model
        return m.getId() or m.getName() or Path(self.source).stem

    @property
    def species_ids(self) -> list[str]:
        return [s.getId() for s in self.sbml_model.getListOfSpecies()]

    @property
    def floating_species_ids(self) -> list[str]:
        return [s.getId() for s in self.sbml_model.getListOfSpecies() if not s.getBoundaryCondition()]

    @property
    def reaction_ids(self) -> list[str]:
        return [r.getId() for r in self.sbml_model.getListOfReactions()]

    @property
    def parameter_ids(self) -> list[str]:
        return [p.getId() for p in self.sbml_model.getListOfParameters()]

    @property
    def compartment_ids(self) -> list[str]:
        return [c.getId() for c in self.sbml_model.getListOfCompartments()]

    @property
    def event_ids(self) -> list[str]:
        return [e.getId() or f"event{i}" for i, e in enumerate(self.sbml_model.getListOfEvents())]

    @property
    def rate_rule_variables(self) -> list[str]:
        return [r.getVariable() for r in self.sbml_model.getListOfRules() if r.isRate()]

    @property
    def assignment_rule_variables(self) -> list[str]:
        return [r.getVariable() for r in self.sbml_model.getListOfRules() if r.isAssignment()]

    @property
    def computed_stoichiometries(self) -> list[str]:
        """Species references whose stoichiometry is computed rather than a number: by a Level 2
        stoichiometryMath, an initial assignment, a rule or an event. Each is named by its id,
        or ``'<reaction>:<species>'`` for a Level 2 reference without one; sorted."""
        m = self.sbml_model
        targets = {ia.getSymbol() for ia in m.getListOfInitialAssignments()}
        targets |= {r.getVariable() for r in m.getListOfRules() if not r.isAlgebraic()}
        targets |= {a.getVariable() for ev in m.getListOfEvents() for a in ev.getListOfEventAssignments()}
        out = []
        for rxn in m.getListOfReactions():
            for ref in _species_references_of(rxn):
                if (ref.isSetId() and ref.getId() in targets) or ref.isSetStoichiometryMath():
                    out.append(ref.getId() if ref.isSetId() else f"{rxn.getId()}:{ref.getSpecies()}")
        return sorted(out)

    @property
    def uses_time(self) -> bool:
        """True when a rate law, rule or function definition reads the model time."""
        m = self.sbml_model
        maths = [r.getKineticLaw().getMath() for r in m.getListOfReactions() if r.getKineticLaw() is not None]
        maths += [r.getMath() for r in m.getListOfRules()]
        maths += [f.getMath() for f in m.getListOfFunctionDefinitions()]
        return any(_math_uses_time(ast) for ast in maths if ast is not None)

    def has_id(self, sid: str) -> bool:
        return self.sbml_model.getElementBySId(sid) is not None

    def require_ids(self, ids: Iterable[str], what: str = "ids") -> None:
        """Raise :class:`UnknownIdError` naming every id in ``ids`` that is not in the model."""
        missing = [i for i in ids if not self.has_id(i)]
        if missing:
            raise UnknownIdError(
                f"Model {self.id!r}: unknown {what} {format_ids(missing)}. "
                f"Known species: {format_ids(self.species_ids, 12) or 'none'}; "
                f"parameters: {format_ids(self.parameter_ids, 12) or 'none'}."
            )

    # ------------------------------------------------------------------ validation
    def validate(self, *, units: bool = False) -> ValidationReport:
        """libsbml consistency checks (units optional); never raises for findings."""
        text = libsbml.writeSBMLToString(self._doc)  # line numbers of the text we export
        return validate_document(libsbml.readSBMLFromString(text), units=units)

    def _raise_if_invalid(self) -> None:
        report = self.validate()
        if not report.ok:
            shown = "\n  ".join(str(i) for i in report.errors[:10])
            ids = [i.element_id for i in report.errors if i.element_id]
            raise ModelValidationError(
                f"{self.source}: invalid SBML, {len(report.errors)} error(s)"
                + (f" at {format_ids(ids)}" if ids else "")
                + f":\n  {shown}\nFix these, or load with validate=False to inspect the model."
            )

    # ------------------------------------------------------------------ export
    def to_sbml(self) -> str:
        """SBML Level 3 Version 2 text, validated (raises if libsbml finds errors).

        A model of another level or version is converted by libsbml; what the
        conversion leaves invalid in L3V2 or mishandled by simulators is then
        settled (see :mod:`epl_sysbio.model.levels`): a local parameter named
        like a species of its reaction is renamed ``<reaction>_<parameter>``, a
        constant stoichiometryMath becomes a constant stoichiometry. A model
        with fast reactions is exported as Level 3 Version 1: Version 2 cannot
        express them, and dropping the flag would change what the model means.
        """
        doc = convert_for_export(self._doc, self.source)
        text = libsbml.writeSBMLToString(doc)
        report = validate_document(libsbml.readSBMLFromString(text))
        if not report.ok:
            level = f"L{doc.getLevel()}V{doc.getVersion()}"
            raise ModelValidationError(f"{self.source}: exported SBML {level} is invalid:\n{report}")
        return text

    def to_antimony(self) -> str:
        """Antimony text; custom annotations are carried in a structured comment."""
        return sbml_to_antimony(libsbml.writeSBMLToString(self._doc), self.source, limits=self.limits)

    def save(self, path: str | os.PathLike) -> Path:
        """Write SBML L3V2 (``.xml``/``.sbml``) or Antimony (``.ant``/``.antimony``/``.txt``)."""
        p = Path(path)
        suffix = p.suffix.lower()
        if suffix in _SBML_SUFFIXES:
            text = self.to_sbml()
        elif suffix in _ANTIMONY_SUFFIXES:
            text = self.to_antimony()
        else:
            raise InvalidValueError(
                f"Cannot tell the format of {str(p)!r} from its suffix {suffix!r}. "
                f"Use one of {sorted(_SBML_SUFFIXES | _ANTIMONY_SUFFIXES)}."
            )
        return atomic_write_text(p, text, what="model file")

    # ------------------------------------------------------------------ editing
    def set_values(self, values: Mapping[str, float]) -> None:
        """Set initial values by id: parameter values, species initial amounts or
        concentrations (whichever the species declares), compartment sizes.

        All ids and values are checked before anything changes. Ids defined by an
        initial assignment or a rule are refused (the value would be overridden).
        """
        self.require_ids(values, "ids in set_values")
        model = self.sbml_model
        checked = {}
        for sid, value in values.items():
            el = model.getElementBySId(sid)
            kind = el.getTypeCode()
            if kind not in (libsbml.SBML_PARAMETER, libsbml.SBML_SPECIES, libsbml.SBML_COMPARTMENT):
                raise InvalidValueError(
                    f"Model {self.id!r}: {sid!r} is a {el.getElementName()}, which has no value to set. "
                    "Set parameters, species or compartments."
                )
            if model.getInitialAssignmentBySymbol(sid) is not None or model.getRule(sid) is not None:
                raise InvalidValueError(
                    f"Model {self.id!r}: {sid!r} is defined by an initial assignment or rule, so a set "
                    "value would be overridden. Edit that assignment or rule instead."
                )
            checked[sid] = (el, kind, checked_number(self.id, sid, value, nonnegative=kind != libsbml.SBML_PARAMETER))
        for sid, (el, kind, v) in checked.items():
            if kind == libsbml.SBML_PARAMETER:
                el.setValue(v)
            elif kind == libsbml.SBML_COMPARTMENT:
                el.setSize(v)
            elif el.isSetInitialAmount() or el.getHasOnlySubstanceUnits():
                el.setInitialAmount(v)
            else:
                el.setInitialConcentration(v)

    def set_value(self, sid: str, value: float) -> None:
        """Set one value; see :meth:`set_values`."""
        self.set_values({sid: value})

    def get_value(self, sid: str) -> float:
        """Initial value of a parameter, species (amount or concentration as declared) or compartment."""
        self.require_ids([sid])
        el = self.sbml_model.getElementBySId(sid)
        code = el.getTypeCode()
        if code == libsbml.SBML_PARAMETER:
            return el.getValue()
        if code == libsbml.SBML_COMPARTMENT:
            return el.getSize()
        if code == libsbml.SBML_SPECIES:
            return el.getInitialAmount() if el.isSetInitialAmount() else el.getInitialConcentration()
        raise InvalidValueError(f"Model {self.id!r}: {sid!r} is a {el.getElementName()} with no value.")

    def _new_id(self, sid: str) -> None:
        if not libsbml.SyntaxChecker.isValidSBMLSId(sid):
            raise InvalidValueError(
                f"Model {self.id!r}: {sid!r} is not a valid SBML id (letters, digits and _, "
                "not starting with a digit)."
            )
        if self.has_id(sid):
            raise InvalidValueError(f"Model {self.id!r}: id {sid!r} is already used. Choose another id.")

    def add_species(
        self,
        sid: str,
        compartment: str,
        *,
        initial_amount: float | None = None,
        initial_concentration: float | None = None,
        boundary: bool = False,
        constant: bool = False,
    ) -> None:
        """Add a species (give exactly one of initial amount or concentration)."""
        self._new_id(sid)
        self.require_ids([compartment], "compartment")
        if (initial_amount is None) == (initial_concentration is None):
            raise InvalidValueError(
                f"Model {self.id!r}: add_species({sid!r}) needs exactly one of initial_amount "
                f"or initial_concentration. Got {initial_amount!r} and {initial_concentration!r}."
            )
        sp = self.sbml_model.createSpecies()
        sp.setId(sid)
        sp.setCompartment(compartment)
        sp.setBoundaryCondition(boundary)
        sp.setConstant(constant)
        sp.setHasOnlySubstanceUnits(False)
        if initial_amount is not None:
            sp.setInitialAmount(checked_number(self.id, sid, initial_amount, nonnegative=True))
        else:
            sp.setInitialConcentration(checked_number(self.id, sid, initial_concentration, nonnegative=True))

    def add_parameter(self, sid: str, value: float, *, constant: bool = True) -> None:
        """Add a global parameter."""
        self._new_id(sid)
        p = self.sbml_model.createParameter()
        p.setId(sid)
        p.setValue(checked_number(self.id, sid, value, nonnegative=False))
        p.setConstant(constant)

    def add_reaction(
        self,
        sid: str,
        reactants: Mapping[str, float] | Iterable[str],
        products: Mapping[str, float] | Iterable[str],
        rate_law: str,
        *,
        reversible: bool = False,
        parameters: Mapping[str, float] | None = None,
    ) -> None:
        """Add a reaction with an infix rate law (SBML L3 syntax, e.g. ``"k1*A*B"``).

        ``parameters`` not yet in the model are added as global parameters.
        Species the rate law reads that are neither reactants nor products become
        modifiers. Every name the rate law uses must exist.
        """
        self._new_id(sid)
        reactants = dict(reactants) if isinstance(reactants, Mapping) else {s: 1.0 for s in reactants}
        products = dict(products) if isinstance(products, Mapping) else {s: 1.0 for s in products}
        self.require_ids(list(reactants) + list(products), "species in add_reaction")
        math_ast = libsbml.parseL3Formula(rate_law)
        if math_ast is None:
            raise InvalidValueError(
                f"Model {self.id!r}: cannot parse rate law {rate_law!r} of reaction {sid!r}: "
                f"{libsbml.getLastParseL3Error()}"
            )
        parameters = dict(parameters or {})
        names = _math_names(math_ast)
        unknown = [n for n in names if not self.has_id(n) and n not in parameters and n != "time"]
        if unknown:
            raise UnknownIdError(
                f"Model {self.id!r}: the rate law of {sid!r} uses unknown ids {format_ids(unknown)}. "
                "Add them first or pass them in parameters={...}."
            )
        for pid, value in sorted(parameters.items()):
            if not self.has_id(pid):
                self.add_parameter(pid, value)
        model = self.sbml_model
        rxn = model.createReaction()
        rxn.setId(sid)
        rxn.setReversible(reversible)
        rxn.setFast(False)  # required in L3V1 documents; ignored by L3V2
        for species, stoich in reactants.items():
            ref = rxn.createReactant()
            ref.setSpecies(species)
            ref.setStoichiometry(float(stoich))
            ref.setConstant(True)
        for species, stoich in products.items():
            ref = rxn.createProduct()
            ref.setSpecies(species)
            ref.setStoichiometry(float(stoich))
            ref.setConstant(True)
        species_ids = set(self.species_ids)
        for name in sorted(names & species_ids - set(reactants) - set(products)):
            rxn.createModifier().setSpecies(name)
        law = rxn.createKineticLaw()
        law.setMath(math_ast)

    def _references(self, sid: str) -> list[str]:
        """Ids of reactions, rules and assignments that refer to ``sid``."""
        model = self.sbml_model
        refs = []
        for rxn in model.getListOfReactions():
            used = {r.getSpecies() for r in rxn.getListOfReactants()}
            used |= {r.getSpecies() for r in rxn.getListOfProducts()}
            used |= {r.getSpecies() for r in rxn.getListOfModifiers()}
            law = rxn.getKineticLaw()
            if sid in used or (law is not None and _math_uses(law.getMath(), sid)):
                refs.append(rxn.getId())
        for rule in model.getListOfRules():
            if rule.getVariable() == sid or _math_uses(rule.getMath(), sid):
                refs.append(f"rule for {rule.getVariable()}")
        for ia in model.getListOfInitialAssignments():
            if ia.getSymbol() == sid or _math_uses(ia.getMath(), sid):
                refs.append(f"initial assignment of {ia.getSymbol()}")
        for i, ev in enumerate(model.getListOfEvents()):
            text = ev.toSBML()
            if f">{sid}<" in text or f'"{sid}"' in text:
                refs.append(f"event {ev.getId() or i}")
        return refs

    def remove_species(self, sid: str) -> None:
        """Remove a species that nothing refers to (remove its reactions first)."""
        self.require_ids([sid], "species")
        if self.sbml_model.getSpecies(sid) is None:
            raise InvalidValueError(f"Model {self.id!r}: {sid!r} is not a species.")
        refs = self._references(sid)
        if refs:
            raise InvalidValueError(
                f"Model {self.id!r}: species {sid!r} is still used by {format_ids(refs)}. "
                "Remove or edit those first; nothing was changed."
            )
        self.sbml_model.removeSpecies(sid)

    def remove_reaction(self, sid: str) -> None:
        """Remove a reaction (its local parameters go with it)."""
        self.require_ids([sid], "reaction")
        if self.sbml_model.getReaction(sid) is None:
            raise InvalidValueError(f"Model {self.id!r}: {sid!r} is not a reaction.")
        self.sbml_model.removeReaction(sid)

    def rename(self, old: str, new: str) -> None:
        """Rename an id everywhere: the element itself and every reference
        (reactions, rate laws, rules, assignments, events, compartments)."""
        self.require_ids([old])
        self._new_id(new)
        model = self.sbml_model
        target = model.getElementBySId(old)
        elements = model.getListOfAllElements()
        for i in range(elements.getSize()):
            elements.get(i).renameSIdRefs(old, new)
        # libsbml lists no Level 2 <stoichiometryMath> among the elements: reach it by hand.
        for rxn in model.getListOfReactions():
            for ref in _species_references_of(rxn):
                if ref.isSetStoichiometryMath():
                    ref.getStoichiometryMath().renameSIdRefs(old, new)
        model.renameSIdRefs(old, new)
        target.setId(new)
        # libsbml caches ids for getElementBySId; a fresh parse keeps lookups honest.
        self._doc = read_sbml_document(libsbml.writeSBMLToString(self._doc), self.source, limits=self.limits)


def _species_references_of(rxn: libsbml.Reaction) -> list[libsbml.SpeciesReference]:
    """The reaction's reactant and product references, typed (the all-elements list may hand
    back bare SBase objects once tellurium's own libsbml is loaded)."""
    return [rxn.getReactant(i) for i in range(rxn.getNumReactants())] + [
        rxn.getProduct(i) for i in range(rxn.getNumProducts())
    ]


def _math_names(ast: libsbml.ASTNode | None) -> set[str]:
    """Every name (symbol) a MathML tree refers to."""
    names: set[str] = set()
    stack = [ast] if ast is not None else []
    while stack:
        node = stack.pop()
        # No getType() comparisons: once tellurium is imported, a second SWIG runtime makes
        # libsbml return enum pointers there, and the comparison silently fails.
        if (node.isName() or node.isUserFunction()) and node.getName():
            names.add(node.getName())
        stack.extend(node.getChild(i) for i in range(node.getNumChildren()))
    return names


_TIME_CSYMBOL = "http://www.sbml.org/sbml/symbols/time"


def _math_uses_time(ast: libsbml.ASTNode) -> bool:
    # Read the MathML, not ASTNode.getType(): see _math_names.
    return _TIME_CSYMBOL in (libsbml.writeMathMLToString(ast) or "")


def _math_uses(ast: libsbml.ASTNode | None, sid: str) -> bool:
    return sid in _math_names(ast)


def load_model(path: str | os.PathLike, *, validate: bool = True, limits: LoadLimits = DEFAULT_LIMITS,
               allow_imports: bool = False) -> Model:
    """Load a model file, choosing SBML or Antimony by suffix (``.xml``/``.sbml`` vs
    ``.ant``/``.antimony``/``.txt``); an unknown suffix is decided by the content
    (XML starts with ``<``); ``.omex`` (or any zip) is a COMBINE archive (:meth:`Model.from_omex`).
    Used by the command line. ``limits`` and ``allow_imports`` as in :class:`Model`."""
    import zipfile

    if Path(path).suffix.lower() == ".omex" or (Path(path).is_file() and zipfile.is_zipfile(path)):
        return Model.from_omex(path, validate=validate, limits=limits)
    text, source = _read_file(path, limits)
    suffix = Path(path).suffix.lower()
    if suffix in _SBML_SUFFIXES or (suffix not in _ANTIMONY_SUFFIXES and text.lstrip().startswith("<")):
        return Model._load_sbml(text, validate=validate, source=source, path=Path(path), limits=limits)
    sbml = antimony_to_sbml(text, source, limits=limits, imports_from=Path(path) if allow_imports else None)
    return Model.from_sbml(sbml, validate=validate, source=source, limits=limits)
