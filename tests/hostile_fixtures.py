"""Hostile model texts, generated (never stored): each one crashed or stalled a native library on main.

Shared by tests/test_hostile_input.py and analysis/fault_injection.py (a plain module, importable from both).
"""

from __future__ import annotations

_SBML_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
              '<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">\n')


def nested_math_sbml(depth: int) -> str:
    """One reaction whose rate law nests ``depth`` levels of MathML ``plus``
    (libsbml's reader segfaults at 10,000; libRoadRunner's compiler at 5,000)."""
    inner = "<ci>k</ci>"
    for _ in range(depth):
        inner = f"<apply><plus/><cn>1</cn>{inner}</apply>"
    return (_SBML_HEAD + '<model id="deep_math">\n'
            '<listOfCompartments><compartment id="c" size="1" constant="true" spatialDimensions="3"/>'
            '</listOfCompartments>\n'
            '<listOfSpecies><species id="S" compartment="c" initialConcentration="1" hasOnlySubstanceUnits="false" '
            'boundaryCondition="false" constant="false"/></listOfSpecies>\n'
            '<listOfParameters><parameter id="k" value="1" constant="true"/></listOfParameters>\n'
            '<listOfReactions><reaction id="J" reversible="false">'
            '<listOfReactants><speciesReference species="S" stoichiometry="1" constant="true"/></listOfReactants>'
            '<kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>S</ci>'
            f'{inner}</apply></math></kineticLaw></reaction></listOfReactions>\n</model>\n</sbml>\n')


def nested_annotation_sbml(depth: int) -> str:
    """A model annotation nested ``depth`` levels deep (libsbml: 8.5 s at 5,000, a crash at 30,000)."""
    inner = "<x:n xmlns:x='http://example.org/x'>" * depth + "</x:n>" * depth
    return (_SBML_HEAD + f'<model id="deep_annotation" metaid="m"><annotation>{inner}</annotation>\n'
            '<listOfCompartments><compartment id="c" size="1" constant="true" spatialDimensions="3"/>'
            '</listOfCompartments>\n</model>\n</sbml>\n')


def external_model_sbml(source: str) -> str:
    """An SBML comp model that makes libsbml and libRoadRunner read ``source``."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" '
            'xmlns:comp="http://www.sbml.org/sbml/level3/version1/comp/version1" level="3" version="1" '
            'comp:required="true">\n<model id="top">\n'
            '<listOfCompartments><compartment id="c" size="1" constant="true" spatialDimensions="3"/>'
            '</listOfCompartments>\n'
            '<comp:listOfSubmodels><comp:submodel comp:id="sub" comp:modelRef="ext"/></comp:listOfSubmodels>\n'
            '</model>\n<comp:listOfExternalModelDefinitions>'
            f'<comp:externalModelDefinition comp:id="ext" comp:source="{source}"/>'
            '</comp:listOfExternalModelDefinitions>\n</sbml>\n')


def antimony_nested_calls(depth: int) -> str:
    """``exp(exp(...(k)...))`` ``depth`` deep in a rate law (Antimony segfaults at 4,500, after 1.9 GB)."""
    return f"model deep\n  S = 1\n  k = 1\n  J: S -> ; {'exp(' * depth}k{')' * depth}*S\nend\n"


def antimony_minus_chain(terms: int) -> str:
    """``k-k-...-k`` with ``terms`` terms: Antimony nests one level per ``-`` (segfault at 8,000)."""
    return f"model chain\n  S = 1\n  k = 1\n  J: S -> ; ({'-'.join(['k'] * terms)})*S\nend\n"


#: A model that imports another file (the name is filled in).
IMPORTING_MODEL = 'import "{path}"\n\nmodel outer\n  A: inner()\nend\n'

#: What an imported file holds, with a token that must never reach a message or an output.
IMPORTED_MODEL = "model inner()\n  S = 1\n  J: S -> ; k*S\n  k = 1\n  // SECRET-TOKEN-7f3a\nend\n"
