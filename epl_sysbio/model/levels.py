"""What differs between SBML levels and versions, handled where libsbml's own converter stops.

Models are exported as SBML Level 3 Version 2, with one exception: Version 2
removed the ``fast`` attribute of reactions, and libsbml's conversion drops it
silently, turning a rapid-equilibrium reaction into an ordinary one (SBML Test
Suite 01396, 01547, 01565: libRoadRunner refuses the original, "Unable to
support 'fast' reactions", and simulates such an export to a wrong answer). A
model with fast reactions is therefore exported as Level 3 Version 1, the
newest that can say what it means (:func:`export_level_version`).

libsbml converts a document between levels and versions, but a few things
that are valid in the source are either forbidden in the target or come out in
a form simulators mishandle. :func:`convert_for_export` runs libsbml's converter
and then repairs exactly those, each named after the rule it settles:

* **Local parameters shadowing a species of their own reaction.** SBML
  Level 3 Version 2 forbids a local parameter whose id equals the species of
  one of its reaction's reactants, products or modifiers (validation rule
  21173); Level 2 and Level 3 Version 1 allow it, and inside the kinetic law
  the name then means the local parameter. Such a parameter is renamed to
  ``<reaction id>_<parameter id>`` (``_2``, ``_3``, ... appended while that id
  is taken) together with every use in its kinetic law, which is what the name
  meant there. SBML Test Suite cases 00059, 00134, 00597, 01640, 01752.
* **Constant stoichiometryMath.** Level 2 writes a computed stoichiometry as
  ``<stoichiometryMath>``; libsbml turns each one into an assignment rule on the
  species reference, even when the math is a constant. libRoadRunner 2.10
  integrates such rules wrongly when two species references of a reaction
  name the same species (SBML Test Suite 01435-01443: CVODE convergence
  failures at t = 0). A constant is what the stoichiometry is, so it is written
  as one: a number becomes the species reference's ``stoichiometry``; math of
  constant symbols becomes an initial assignment; both with
  ``constant="true"``. Math that can change in time stays a rule.

:func:`define_level2_unit_names` is applied when a model is loaded: Level 2
predefines the unit ids ``substance``, ``volume``, ``area``, ``length`` and
``time``; Level 3 does not, and a Level 3 file that still names one without
defining it fails libsbml's identifier check 10313 (SBML Test Suite 00959:
``areaUnits="area"``). The unit is added with its Level 2 meaning.
"""

from __future__ import annotations

import libsbml

from epl_sysbio.errors import ModelValidationError

__all__ = ["convert_for_export", "define_level2_unit_names", "export_level_version", "LEVEL2_UNIT_NAMES"]

#: Level 2's predefined unit ids and their meaning: (kind, exponent).
LEVEL2_UNIT_NAMES = {
    "substance": (libsbml.UNIT_KIND_MOLE, 1),
    "volume": (libsbml.UNIT_KIND_LITRE, 1),
    "area": (libsbml.UNIT_KIND_METRE, 2),
    "length": (libsbml.UNIT_KIND_METRE, 1),
    "time": (libsbml.UNIT_KIND_SECOND, 1),
}

_TIME_DEPENDENT_CSYMBOLS = ("http://www.sbml.org/sbml/symbols/time", "http://www.sbml.org/sbml/symbols/delay",
                            "http://www.sbml.org/sbml/symbols/rateOf")


def export_level_version(doc: libsbml.SBMLDocument) -> tuple[int, int]:
    """(3, 2), or (3, 1) for a model with fast reactions, which Level 3 Version 2 cannot express."""
    fast = any(r.isSetFast() and r.getFast() for r in doc.getModel().getListOfReactions())
    return (3, 1) if fast and (doc.getLevel(), doc.getVersion()) < (3, 2) else (3, 2)


def convert_for_export(doc: libsbml.SBMLDocument, source: str) -> libsbml.SBMLDocument:
    """A copy of ``doc`` at :func:`export_level_version`, settled as the module docstring says.

    Raises :class:`ModelValidationError` when libsbml cannot convert.
    """
    out = doc.clone()
    level, version = doc.getLevel(), doc.getVersion()
    target = export_level_version(doc)
    if (level, version) == target:
        return out
    props = libsbml.ConversionProperties(libsbml.SBMLNamespaces(*target))
    props.addOption("strict", False)
    props.addOption("setLevelAndVersion", True)
    if out.convert(props) != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise ModelValidationError(
            f"{source}: libsbml could not convert level {level} version {version} to SBML L{target[0]}V{target[1]}: "
            f"{out.getErrorLog().toString()[:500]}"
        )
    if target == (3, 2):
        _rename_shadowing_local_parameters(out.getModel())
    if level < 3:
        _settle_constant_stoichiometry(out.getModel())
    return out


def _rename_shadowing_local_parameters(model: libsbml.Model) -> None:
    for rxn in model.getListOfReactions():
        law = rxn.getKineticLaw()
        if law is None or law.getNumLocalParameters() == 0:
            continue
        species = {r.getSpecies() for r in rxn.getListOfReactants()}
        species |= {r.getSpecies() for r in rxn.getListOfProducts()}
        species |= {r.getSpecies() for r in rxn.getListOfModifiers()}
        local_ids = {p.getId() for p in law.getListOfLocalParameters()}
        for param in law.getListOfLocalParameters():
            old = param.getId()
            if old not in species:
                continue
            new = base = f"{rxn.getId()}_{old}"
            n = 1
            while model.getElementBySId(new) is not None or new in local_ids:
                n += 1
                new = f"{base}_{n}"
            if law.isSetMath():
                # Inside the law the name meant the local parameter, so every use follows it.
                law.getMath().renameSIdRefs(old, new)
            param.setId(new)
            local_ids.add(new)


def _names(ast: libsbml.ASTNode) -> tuple[set[str], bool]:
    """The names ``ast`` reads, and whether it reads time, delay or rateOf."""
    # Read the MathML, not ASTNode.getType(): see epl_sysbio.model.core._math_names.
    text = libsbml.writeMathMLToString(ast) or ""
    timed = any(url in text for url in _TIME_DEPENDENT_CSYMBOLS)
    names: set[str] = set()
    stack = [ast]
    while stack:
        node = stack.pop()
        if (node.isName() or node.isUserFunction()) and node.getName() and not node.getDefinitionURLString():
            names.add(node.getName())
        stack.extend(node.getChild(i) for i in range(node.getNumChildren()))
    return names, timed


def _species_references(model: libsbml.Model) -> dict[str, libsbml.SpeciesReference]:
    """Reactant and product references with an id, by id; fetched through the typed getters
    (lookups by id may hand back bare SBase objects once tellurium's own libsbml is loaded)."""
    refs = {}
    for rxn in model.getListOfReactions():
        for ref in [rxn.getReactant(i) for i in range(rxn.getNumReactants())] + [
            rxn.getProduct(i) for i in range(rxn.getNumProducts())
        ]:
            if ref.isSetId():
                refs[ref.getId()] = ref
    return refs


def _is_constant_symbol(model: libsbml.Model, sid: str, refs: dict[str, libsbml.SpeciesReference]) -> bool:
    """True when ``sid`` names a value that cannot change during a simulation."""
    if model.getFunctionDefinition(sid) is not None:
        return True
    if model.getRule(sid) is not None or any(ev.getEventAssignment(sid) is not None for ev in model.getListOfEvents()):
        return False
    for getter in (model.getParameter, model.getCompartment, model.getSpecies, refs.get):
        el = getter(sid)
        if el is not None:
            return bool(el.getConstant())
    return False


def _settle_constant_stoichiometry(model: libsbml.Model) -> None:
    refs = _species_references(model)
    for rule in list(model.getListOfRules()):
        ref = refs.get(rule.getVariable())
        if not rule.isAssignment() or ref is None or not rule.isSetMath():
            continue
        math = rule.getMath()
        names, timed = _names(math)
        if timed or not all(_is_constant_symbol(model, n, refs) for n in names):
            continue  # variable stoichiometry: the rule is what it means
        sid = rule.getVariable()
        if math.isNumber():
            ref.setStoichiometry(math.getValue())
        else:
            ia = model.createInitialAssignment()
            ia.setSymbol(sid)
            ia.setMath(math.deepCopy())
        ref.setConstant(True)
        model.removeRule(sid)


def define_level2_unit_names(doc: libsbml.SBMLDocument) -> list[str]:
    """Define, with their Level 2 meaning, the Level 2 unit ids a Level 3 document uses but never defines."""
    model = doc.getModel()
    if model is None or doc.getLevel() < 3:
        return []
    used: set[str] = set()
    for attr in ("SubstanceUnits", "TimeUnits", "VolumeUnits", "AreaUnits", "LengthUnits", "ExtentUnits"):
        if getattr(model, f"isSet{attr}")():
            used.add(getattr(model, f"get{attr}")())
    used |= {c.getUnits() for c in model.getListOfCompartments()}
    used |= {p.getUnits() for p in model.getListOfParameters()}
    used |= {s.getSubstanceUnits() for s in model.getListOfSpecies()}
    for rxn in model.getListOfReactions():
        if rxn.isSetKineticLaw():
            used |= {p.getUnits() for p in rxn.getKineticLaw().getListOfLocalParameters()}
    notes = []
    for uid in sorted(used & LEVEL2_UNIT_NAMES.keys()):
        if model.getUnitDefinition(uid) is not None:
            continue
        kind, exponent = LEVEL2_UNIT_NAMES[uid]
        unit_def = model.createUnitDefinition()
        unit_def.setId(uid)
        unit = unit_def.createUnit()
        unit.setKind(kind)
        unit.setExponent(exponent)
        unit.setScale(0)
        unit.setMultiplier(1.0)
        notes.append(
            f"unit {uid!r} defined as {libsbml.UnitKind_toString(kind)}^{exponent}: the model names this Level 2 "
            "built-in unit, which Level 3 no longer predefines"
        )
    return notes
