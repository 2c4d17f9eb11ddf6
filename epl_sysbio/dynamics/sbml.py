"""The SBML generator: an :class:`RdsSpec` as an SBML reaction network, and back.

What the generated model holds (ids from the spec's names; names have no
underscores, so the ids cannot collide)::

    compartment  <space>                     one per space, size 1
                 momentum_space              holds the momenta, size 1
    species      x_<gene>_<space>            node amount x_i (hasOnlySubstanceUnits: the symbol is the amount)
                 p_<gene>_<space>            momentum p_i, only for nodes on a Hamiltonian edge
    parameters   a_<gene>, m_<gene>, q_<gene>     standard potential, mass, charge
                 dist_<sa>_<sb>              distance of neighbouring spaces
                 k_<edge>, v_<edge>          chemical / diffusion rate k, Hamiltonian rate v
                 h_<gene>_<space>, c_<gene>_<space>   reservoir rate, friction
    rules        psi_<gene>_<space> := 1 + a + q*phi_<space> + p^2/(2m)   (mu = ln x + psi)
                 rho_<space> := sum of q*x over the charged nodes of the space
                 phi_<space> := sum of rho_<nb>/dist over the neighbouring spaces
    reactions    R_<gi>_<gj>_<gk>_<s>   gi + gj <-> gk:  k*(x_i e^psi_i * x_j e^psi_j - x_k e^psi_k)
                 D_<g>_<sa>_<sb>        x_a <-> x_b:     k*(x_a e^psi_a - x_b e^psi_b)
                 H_<g>_<sa>_<sb>_x      x_a <-> x_b:     v*(w_b - w_a)*x_a*x_b,    w = x p / m
                 H_<g>_<sa>_<sb>_p      p_b <-> p_a:     v*(mu_b - mu_a)*x_a*x_b,
                                                         ln x taken as ln(max(x, 1e-300))
                 C_<g>_<s>              p -> :           c*w            (collision)
                 E_<g>_<s>              -> x:            h*(exp(-psi) - x)   (reservoir, only where h > 0)

The logarithm in the Hamiltonian momentum flow is ``ln(max(x, 1e-300))``
(SBML L3V2's ``max``): identical for x > 0, and finite where an integrator's
step takes a node decaying to a tiny equilibrium amount just below 0, where
``ln`` would give NaN and CVODE would fail its convergence test (the
compiled kernel, :mod:`epl_sysbio.dynamics.kernel`, does the same).

Momenta are ordinary floating species in their own compartment, moved by
reactions whose rate laws are the signed dp/dt terms. libRoadRunner's
``steadyState()`` solves floating species only; variables of rate rules are
left where they are (BIOMD0000000020, Hodgkin-Huxley: ``docs/biomodels_findings.md``),
so rate rules for p would give steady
states whose momenta are never solved. As species, p takes part in NLEQ2's
Newton iteration, in conserved-moiety analysis and in the reduced Jacobian.
Nodes on no Hamiltonian edge have dp/dt = -c w, so p = 0 stays 0 and they
get no momentum species. Writing the Hamiltonian momentum exchange as
``p_b -> p_a`` (rather than two "-> p" productions) lets libRoadRunner see the
conservation of p_a + p_b when friction is 0.

Zero charges and zero reservoir rates are structural: their terms and
reactions are left out (a reservoir reaction, even at rate 0, would remove a
conservation law). Every other constant is a parameter that
:meth:`Engine.set_values` can change without recompiling.

The spec itself rides along as JSON in the model's annotation
(``<epl:rds>``); :func:`spec_from_model` reads it back and takes every value
that is a parameter or an initial amount from the SBML, so edits made in
another tool (COPASI, tellurium) are kept.
"""

from __future__ import annotations

import json
import re
from importlib import metadata
from xml.sax.saxutils import escape, unescape

import libsbml

from epl_sysbio.dynamics.spec import Node, RdsSpec, spec_from_dict, spec_to_dict
from epl_sysbio.errors import InvalidValueError, ModelLoadError
from epl_sysbio.model import Model

__all__ = ["RDS_NAMESPACE", "spec_to_model", "spec_from_model"]

#: XML namespace of the spec annotation.
RDS_NAMESPACE = "https://github.com/epl-sysbio/epl_sysbio/rds/1"
MOMENTUM_SPACE = "momentum_space"
#: Floor of the amounts inside the Hamiltonian flow's logarithm (the kernel's ``_TINY``).
_TINY = 1e-300

# SBO terms (https://www.ebi.ac.uk/sbo/)
_SBO_COMPARTMENT = 290  # physical compartment
_SBO_MATERIAL = 240  # material entity (a node)
_SBO_KINETIC_CONSTANT = 9
_SBO_PARAMETER = 2  # quantitative systems description parameter
_SBO_BIOCHEMICAL = 176  # biochemical reaction
_SBO_TRANSPORT = 185  # transport reaction
_SBO_PROCESS = 375  # process (momentum exchange, collision)
_SBO_EXCHANGE = 627  # exchange reaction (reservoir)


def _version() -> str:
    try:
        return metadata.version("epl_sysbio")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "unknown"


class _Builder:
    """Adds elements to a libsbml model, turning libsbml status codes into errors in one place."""

    def __init__(self, spec: RdsSpec) -> None:
        self.doc = libsbml.SBMLDocument(3, 2)
        self.model = self.doc.createModel()
        self.model.setId(spec.name)
        # Amounts, sizes and time are dimensionless numbers here (H has x ln x); declaring them lets
        # other tools import the network without assuming mole, litre and second (COPASI warns otherwise).
        for unit in ("Substance", "Time", "Volume", "Area", "Length", "Extent"):
            self._check(getattr(self.model, f"set{unit}Units")("dimensionless"), f"the model's {unit.lower()} units")

    @staticmethod
    def _check(status: int, what: str) -> None:
        if status != libsbml.LIBSBML_OPERATION_SUCCESS:
            raise ModelLoadError(f"SBML generator: libsbml refused {what}: "
                                 f"{libsbml.OperationReturnValue_toString(status)}.")

    def compartment(self, sid: str) -> None:
        c = self.model.createCompartment()
        self._check(c.setId(sid), f"compartment {sid!r}")
        c.setSize(1.0)
        c.setConstant(True)
        c.setSpatialDimensions(3)
        c.setSBOTerm(_SBO_COMPARTMENT)

    def species(self, sid: str, compartment: str, amount: float, sbo: int | None) -> None:
        s = self.model.createSpecies()
        self._check(s.setId(sid), f"species {sid!r}")
        s.setCompartment(compartment)
        s.setInitialAmount(amount)
        s.setHasOnlySubstanceUnits(True)
        s.setBoundaryCondition(False)
        s.setConstant(False)
        if sbo is not None:
            s.setSBOTerm(sbo)

    def parameter(self, sid: str, value: float, sbo: int, *, constant: bool = True) -> None:
        p = self.model.createParameter()
        self._check(p.setId(sid), f"parameter {sid!r}")
        p.setValue(value)
        p.setConstant(constant)
        p.setSBOTerm(sbo)

    def rule(self, sid: str, formula: str) -> None:
        self.parameter(sid, 0.0, _SBO_PARAMETER, constant=False)
        r = self.model.createAssignmentRule()
        r.setVariable(sid)
        self._check(r.setMath(self._math(formula, sid)), f"the rule of {sid!r}")

    def reaction(self, sid: str, reactants: dict[str, int], products: dict[str, int], formula: str,
                 sbo: int) -> None:
        r = self.model.createReaction()
        self._check(r.setId(sid), f"reaction {sid!r}")
        r.setReversible(True)
        r.setSBOTerm(sbo)
        for refs, make in ((reactants, r.createReactant), (products, r.createProduct)):
            for species, n in refs.items():
                ref = make()
                ref.setSpecies(species)
                ref.setStoichiometry(float(n))
                ref.setConstant(True)
        ast = self._math(formula, sid)
        # SBML requires every species a rate law reads to be a reactant, product or modifier.
        for name in sorted(_names(ast) - set(reactants) - set(products)):
            if self.model.getSpecies(name) is not None:
                r.createModifier().setSpecies(name)
        self._check(r.createKineticLaw().setMath(ast), f"the rate law of {sid!r}")

    @staticmethod
    def _math(formula: str, sid: str) -> libsbml.ASTNode:
        ast = libsbml.parseL3Formula(formula)
        if ast is None:
            raise ModelLoadError(f"SBML generator: cannot parse the math of {sid!r} ({formula!r}): "
                                 f"{libsbml.getLastParseL3Error()}")
        return ast


def spec_to_model(spec: RdsSpec) -> Model:
    """Generate the SBML model of an RDS (layout in the module docstring).

    Parameters
    ----------
    spec : RdsSpec

    Returns
    -------
    Model
        SBML Level 3 Version 2, every species an amount; ``Model.to_sbml()``
        and ``Model.to_antimony()`` export it with the spec annotation.
    """
    if not isinstance(spec, RdsSpec):
        raise InvalidValueError(f"spec_to_model expects an RdsSpec, got {type(spec).__name__}.")
    b = _Builder(spec)
    momentum = set(spec.momentum_nodes)
    charged_genes = {g.name for g in spec.genes if spec.gene_charge(g.name) != 0}
    for s in spec.spaces:
        b.compartment(s.name)
    if momentum:
        b.compartment(MOMENTUM_SPACE)
    for n in spec.nodes:
        b.species(n.species_id, n.space, n.initial_amount, _SBO_MATERIAL)
    for i in sorted(momentum):
        # No SBO term: SBML expects species terms from "material entity", and a momentum is not one.
        b.species(spec.nodes[i].momentum_id, MOMENTUM_SPACE, 0.0, None)
    used_genes = sorted({n.gene for n in spec.nodes}, key=[g.name for g in spec.genes].index)
    for g in used_genes:
        b.parameter(f"a_{g}", spec.gene(g).potential, _SBO_PARAMETER)
        b.parameter(f"m_{g}", spec.gene_mass(g), _SBO_PARAMETER)
        b.parameter(f"q_{g}", spec.gene_charge(g), _SBO_PARAMETER)
    for k in spec.links:
        b.parameter(f"dist_{k.a}_{k.b}", k.distance, _SBO_PARAMETER)

    # Electric potential of each space: phi_s = sum over neighbours s' of rho_s' / dist(s, s').
    charged_in = {s.name: [n for n in spec.nodes if n.space == s.name and n.gene in charged_genes]
                  for s in spec.spaces}
    for s, nodes in charged_in.items():
        if nodes:
            b.rule(f"rho_{s}", " + ".join(f"q_{n.gene}*{n.species_id}" for n in nodes))
    has_phi = set()
    for s in spec.spaces:
        terms = [f"rho_{o}/dist_{k.a}_{k.b}" for k in spec.links for o in _other(k, s.name) if charged_in[o]]
        if terms and charged_in[s.name]:
            b.rule(f"phi_{s.name}", " + ".join(terms))
            has_phi.add(s.name)
    for i, n in enumerate(spec.nodes):
        terms = ["1", f"a_{n.gene}"]
        if n.gene in charged_genes and n.space in has_phi:
            terms.append(f"q_{n.gene}*phi_{n.space}")
        if i in momentum:
            terms.append(f"{n.momentum_id}^2/(2*m_{n.gene})")
        b.rule(_psi(n), " + ".join(terms))

    def z(n: Node) -> str:  # exp(mu) = x exp(psi)
        return f"{n.species_id}*exp({_psi(n)})"

    for r in spec.reactions:
        ni, nj, nk = (spec.node(g, r.space) for g in r.reactants + (r.product,))
        b.parameter(f"k_{r.id}", r.rate, _SBO_KINETIC_CONSTANT)
        reactants = {ni.species_id: 2} if ni is nj else {ni.species_id: 1, nj.species_id: 1}
        b.reaction(r.id, reactants, {nk.species_id: 1}, f"k_{r.id}*({z(ni)}*{z(nj)} - {z(nk)})", _SBO_BIOCHEMICAL)
    for e in spec.diffusion:
        na, nb = spec.node(e.gene, e.a), spec.node(e.gene, e.b)
        b.parameter(f"k_{e.id}", e.rate, _SBO_KINETIC_CONSTANT)
        b.reaction(e.id, {na.species_id: 1}, {nb.species_id: 1}, f"k_{e.id}*({z(na)} - {z(nb)})", _SBO_TRANSPORT)
    for e in spec.hamiltonian:
        na, nb = spec.node(e.gene, e.a), spec.node(e.gene, e.b)
        xa, xb, pa, pb = na.species_id, nb.species_id, na.momentum_id, nb.momentum_id
        m = f"m_{e.gene}"
        b.parameter(f"v_{e.id}", e.rate, _SBO_KINETIC_CONSTANT)
        b.reaction(f"{e.id}_x", {xa: 1}, {xb: 1}, f"v_{e.id}*({xb}*{pb}/{m} - {xa}*{pa}/{m})*{xa}*{xb}",
                   _SBO_TRANSPORT)
        log_ratio = f"ln(max({xb}, {_TINY:g})) - ln(max({xa}, {_TINY:g}))"
        b.reaction(f"{e.id}_p", {pb: 1}, {pa: 1},
                   f"v_{e.id}*({log_ratio} + {_psi(nb)} - {_psi(na)})*{xa}*{xb}", _SBO_PROCESS)
    for i in sorted(momentum):
        n = spec.nodes[i]
        cid = f"c_{n.gene}_{n.space}"
        b.parameter(cid, n.friction, _SBO_KINETIC_CONSTANT)
        b.reaction(f"C_{n.gene}_{n.space}", {n.momentum_id: 1}, {},
                   f"{cid}*{n.species_id}*{n.momentum_id}/m_{n.gene}", _SBO_PROCESS)
    for n in spec.nodes:
        if n.reservoir > 0:
            hid = f"h_{n.gene}_{n.space}"
            b.parameter(hid, n.reservoir, _SBO_KINETIC_CONSTANT)
            b.reaction(f"E_{n.gene}_{n.space}", {}, {n.species_id: 1},
                       f"{hid}*(exp(-{_psi(n)}) - {n.species_id})", _SBO_EXCHANGE)

    model = b.model
    model.setMetaId(f"meta_{spec.name}")
    data = spec_to_dict(spec)
    del data["notes"]  # they are the model's SBML notes
    payload = escape(json.dumps(data, sort_keys=True))
    ann = (f'<annotation><epl:rds xmlns:epl="{RDS_NAMESPACE}" generator="epl_sysbio.dynamics" '
           f'version="{_version()}">{payload}</epl:rds></annotation>')
    _Builder._check(model.setAnnotation(ann), "the spec annotation")
    if spec.notes:
        paragraphs = "".join(f"<p>{escape(p.strip())}</p>" for p in spec.notes.split("\n\n") if p.strip())
        _Builder._check(model.setNotes(f'<body xmlns="http://www.w3.org/1999/xhtml">{paragraphs}</body>'),
                        "the model notes")
    return Model(b.doc, source=f"<rds {spec.name}>")


def _names(ast: libsbml.ASTNode) -> set[str]:
    # isName(), never getType() comparisons (they break once tellurium is imported).
    names, stack = set(), [ast]
    while stack:
        node = stack.pop()
        if node.isName() and node.getName():
            names.add(node.getName())
        stack.extend(node.getChild(i) for i in range(node.getNumChildren()))
    return names


def _other(link, space: str) -> list[str]:
    return [link.b] if link.a == space else [link.a] if link.b == space else []


def _psi(n: Node) -> str:
    return f"psi_{n.gene}_{n.space}"


def spec_from_model(model: Model) -> RdsSpec:
    """Read an RDS back from a generated model (:func:`spec_to_model`), keeping edited values.

    The structure comes from the ``<epl:rds>`` annotation; rates, potentials,
    distances, friction, reservoir rates and initial amounts come from the
    SBML parameters and species, so values changed in the SBML are kept.

    Raises
    ------
    ModelLoadError
        The model carries no spec annotation (it was not generated here).
    InvalidValueError
        A mass or charge parameter was edited: they follow from the
        composition, so edit the components in the annotation instead.
    """
    sbml = model.sbml_model
    data = _annotation_payload(sbml)
    if data is None:
        raise ModelLoadError(f"Model {model.id!r} carries no <epl:rds> annotation, so it was not generated "
                             "by epl_sysbio.dynamics.spec_to_model; there is no spec to read back.")
    data["notes"] = _notes_text(sbml)
    spec = spec_from_dict(data)

    def value(sid: str, default: float) -> float:
        p = sbml.getParameter(sid)
        return p.getValue() if p is not None else default

    for g in sorted({n.gene for n in spec.nodes}):
        for sid, expected in ((f"m_{g}", spec.gene_mass(g)), (f"q_{g}", spec.gene_charge(g))):
            got = value(sid, expected)
            if abs(got - expected) > 1e-12 * max(1.0, abs(expected)):
                raise InvalidValueError(
                    f"Model {model.id!r}: parameter {sid!r} is {got!r} but the composition of gene {g!r} gives "
                    f"{expected!r}. Masses and charges follow from the components: edit those instead.")
    for row in data["genes"]:
        row["potential"] = value(f"a_{row['name']}", row["potential"])
    for row in data["links"]:
        row["distance"] = value(f"dist_{row['a']}_{row['b']}", row["distance"])
    for row in data["nodes"]:
        key = f"{row['gene']}_{row['space']}"
        sp = sbml.getSpecies(f"x_{key}")
        if sp is not None and sp.isSetInitialAmount():
            row["initial_amount"] = sp.getInitialAmount()
        row["reservoir"] = value(f"h_{key}", row["reservoir"])
        row["friction"] = value(f"c_{key}", row["friction"])
    for kind, prefix in (("reactions", "k"), ("diffusion", "k"), ("hamiltonian", "v")):
        for row, el in zip(data[kind], getattr(spec, kind)):
            row["rate"] = value(f"{prefix}_{el.id}", row["rate"])
    return spec_from_dict(data)


def _notes_text(sbml: libsbml.Model) -> str:
    """Plain text of the model notes: one paragraph per <p>, as :func:`spec_to_model` writes them."""
    if not sbml.isSetNotes():
        return ""
    paragraphs = re.findall(r"<p[^>]*>(.*?)</p>", sbml.getNotesString(), flags=re.S)
    return "\n\n".join(unescape(" ".join(re.sub(r"<[^>]+>", "", p).split())) for p in paragraphs)


def _annotation_payload(sbml: libsbml.Model) -> dict | None:
    if not sbml.isSetAnnotation():
        return None
    ann = sbml.getAnnotation()
    for i in range(ann.getNumChildren()):
        child = ann.getChild(i)
        if child.getName() == "rds" and child.getURI() == RDS_NAMESPACE:
            text = "".join(child.getChild(j).getCharacters() for j in range(child.getNumChildren()))
            try:
                return json.loads(text)
            except ValueError as exc:
                raise ModelLoadError(f"Model {sbml.getId()!r}: the <epl:rds> annotation is not valid JSON "
                                     f"({exc}). Regenerate the model from its spec.") from None
    return None
