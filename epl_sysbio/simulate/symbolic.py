"""Exact derivatives of SBML math, as SBML formula text.

libsbml 5.21's ``ASTNode.derivative`` is not usable here: it writes
``a/b`` derivatives as a three-argument ``divide`` (wrong value), returns
``None`` for ``piecewise`` and segfaults on ``x^n`` with a symbolic exponent.
This module differentiates the AST itself, with the textbook rules, and
returns L3 formula text (``None`` for an identically zero derivative) that
libRoadRunner then evaluates as an ordinary assignment rule.

Node kinds are read from ``getCharacter()``, ``getName()`` and the ``is*()``
predicates, never by comparing ``getType()`` with libsbml constants (those
change after a tellurium import).

Assignment-rule variables are differentiated through their rules (chain rule)
while their own values are left for libRoadRunner to evaluate, so the formula
text stays short and uses the same values as the simulation.
"""

from __future__ import annotations

from collections.abc import Mapping

import libsbml

from epl_sysbio.errors import UnsupportedModelError

__all__ = ["Differentiator", "names_in"]

Expr = str | None  # formula text; None is an identically zero derivative

_TIME_URLS = ("http://www.sbml.org/sbml/symbols/time", "http://www.sbml.org/sbml/symbols/avogadro")


def _text(node: libsbml.ASTNode) -> str:
    return "(" + libsbml.formulaToL3String(node) + ")"


def _add(a: Expr, b: Expr) -> Expr:
    if a is None:
        return b
    if b is None:
        return a
    return f"({a} + {b})"


def _neg(a: Expr) -> Expr:
    return None if a is None else f"(-{a})"


def _mul(*factors: Expr) -> Expr:
    if any(f is None for f in factors):
        return None
    kept = [f for f in factors if f != "1"]
    if not kept:
        return "1"
    return kept[0] if len(kept) == 1 else "(" + " * ".join(kept) + ")"


def _div(a: Expr, b: str) -> Expr:
    return None if a is None else f"({a} / {b})"


def names_in(node: libsbml.ASTNode) -> set[str]:
    """Every identifier a math expression reads (csymbols time and avogadro excluded)."""
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if n.isName() and n.getDefinitionURLString() not in _TIME_URLS:
            out.add(n.getName())
        stack.extend(n.getChild(i) for i in range(n.getNumChildren()))
    return out


class Differentiator:
    """Differentiate SBML math with respect to one identifier at a time.

    Parameters
    ----------
    rules : mapping of str to ASTNode
        Assignment-rule variable -> its math. Their derivatives follow the
        chain rule through these expressions.
    where : str
        Names the model in error messages.
    """

    def __init__(self, rules: Mapping[str, libsbml.ASTNode], where: str) -> None:
        self._rules = dict(rules)
        self._where = where
        self._rule_reads: dict[str, frozenset[str]] = {}
        self._rule_derivatives: dict[tuple[str, str], Expr] = {}

    def reads(self, node: libsbml.ASTNode) -> set[str]:
        """Every identifier ``node`` reads, directly or through assignment rules."""
        out: set[str] = set()
        for name in names_in(node):
            out.add(name)
            if name in self._rules:
                if name not in self._rule_reads:
                    self._rule_reads[name] = frozenset()  # rules are acyclic in valid SBML
                    self._rule_reads[name] = frozenset(self.reads(self._rules[name]))
                out |= self._rule_reads[name]
        return out

    def depends_on(self, node: libsbml.ASTNode, var: str) -> bool:
        """True when ``node`` reads ``var``, directly or through assignment rules."""
        return var in self.reads(node)

    def derivative(self, node: libsbml.ASTNode, var: str, context: str) -> Expr:
        """d node / d var as formula text, or None if it is identically zero.

        ``context`` (e.g. the reaction id) goes into error messages. Callers
        differentiating one expression by many variables should ask only for
        those in :meth:`reads` (what makes BIOMD0000000628's 587 laws x 135
        species take 1 s, not 2 min).
        """
        if not self.depends_on(node, var):
            return None
        return self._d(node, var, context)

    def _d(self, node: libsbml.ASTNode, var: str, context: str) -> Expr:  # noqa: C901 (one rule per node kind)
        # A zero derivative is None; it propagates through _add/_mul/_div, so subtrees
        # need no separate dependency test (that test made the recursion quadratic).
        if node.isName():
            name = node.getName()
            if name == var:
                return "1"
            if name not in self._rules or node.getDefinitionURLString() in _TIME_URLS:
                return None
            key = (name, var)
            if key not in self._rule_derivatives:  # each rule differentiated once per variable
                self._rule_derivatives[key] = self._d(self._rules[name], var, context)
            return self._rule_derivatives[key]
        if node.getNumChildren() == 0:
            return None  # numbers and constants
        kids = [node.getChild(i) for i in range(node.getNumChildren())]
        op = node.getCharacter() if node.isOperator() else ""
        if node.isPiecewise():
            # Same conditions (odd positions), differentiated values (conditions are
            # constant almost everywhere).
            values = [self._d(k, var, context) if i % 2 == 0 else None for i, k in enumerate(kids)]
            if all(v is None for v in values):
                return None
            parts = [(v or "0") if i % 2 == 0 else _text(k) for i, (k, v) in enumerate(zip(kids, values))]
            return f"piecewise({', '.join(parts)})"
        d = [self._d(k, var, context) for k in kids]
        if op == "+":
            out: Expr = None
            for dk in d:
                out = _add(out, dk)
            return out
        if op == "-":
            return _neg(d[0]) if len(kids) == 1 else _add(d[0], _neg(d[1]))
        if op == "*":
            # Product rule over n factors: sum_i d(f_i) prod_{j != i} f_j.
            out = None
            for i, dk in enumerate(d):
                out = _add(out, _mul(dk, *(_text(k) for j, k in enumerate(kids) if j != i)))
            return out
        if op == "/":
            # (u/v)' = u'/v - u v' / v^2
            u, v = _text(kids[0]), _text(kids[1])
            return _add(_div(d[0], v), _neg(_div(_mul(u, d[1]), f"({v}^2)")))
        if op == "^":
            return self._power(kids[0], kids[1], d[0], d[1])
        name = node.getName() if node.isFunction() else None
        if name is None:
            return self._unsupported(node, var, context)
        arg = _text(kids[-1]) if kids else ""
        du = d[-1] if d else None
        if name in ("power", "pow"):  # MathML <power/> arrives as a function node
            return self._power(kids[0], kids[1], d[0], d[1])
        if name == "exp":
            return _mul(f"exp{arg}", du)
        if name == "ln":
            return _div(du, arg)
        if name in ("log", "log10"):
            # log_b(x) = ln(x)/ln(b); a missing base is 10.
            if len(kids) == 1 or not self.depends_on(kids[0], var):
                base = "(10)" if len(kids) == 1 else _text(kids[0])
                return _div(du, f"({arg} * ln{base})")
            ratio = libsbml.parseL3Formula(f"ln{arg} / ln{_text(kids[0])}")
            return self._d(ratio, var, context)
        if name in ("root", "sqrt"):
            # root(n, x) = x^(1/n); a missing degree is 2.
            degree = "(2)" if len(kids) == 1 else _text(kids[0])
            return self._d(libsbml.parseL3Formula(f"{arg}^(1/{degree})"), var, context)
        if name == "abs":
            return _mul(f"piecewise(1, {arg} > 0, -1, {arg} < 0, 0)", du)
        if name in ("max", "min"):
            # The derivative of the argument that is the extreme one (the first, on ties).
            if all(dk is None for dk in d):
                return None
            cmp = ">=" if name == "max" else "<="
            texts = [_text(k) for k in kids]
            parts = []
            for i, dk in enumerate(d[:-1]):
                parts += [dk or "0", " && ".join(f"{texts[i]} {cmp} {texts[j]}" for j in range(len(kids)) if j != i)]
            return f"piecewise({', '.join(parts + [d[-1] or '0'])})"
        simple = {
            "sin": f"cos{arg}",
            "cos": f"(-sin{arg})",
            "tan": f"(1/cos{arg}^2)",
            "sinh": f"cosh{arg}",
            "cosh": f"sinh{arg}",
            "tanh": f"(1 - tanh{arg}^2)",
            "arcsin": f"(1/sqrt(1 - {arg}^2))",
            "arccos": f"(-1/sqrt(1 - {arg}^2))",
            "arctan": f"(1/(1 + {arg}^2))",
        }
        if name in simple:
            return _mul(simple[name], du)
        return self._unsupported(node, var, context)

    def _power(self, base: libsbml.ASTNode, exponent: libsbml.ASTNode, db: Expr, de: Expr) -> Expr:
        b, e = _text(base), _text(exponent)
        if de is None:
            # (b^e)' = e b^(e-1) b'
            return _mul(e, f"({b}^({e} - 1))", db)
        # (b^e)' = b^e (e' ln b + e b'/b)
        return _mul(f"({b}^{e})", _add(_mul(de, f"ln{b}"), _div(_mul(e, db), b)))

    def _unsupported(self, node: libsbml.ASTNode, var: str, context: str) -> None:
        """No derivative rule for ``node``: zero if it does not read ``var``, else refused."""
        if not self.depends_on(node, var):
            return None
        raise UnsupportedModelError(
            f"Model {self._where!r}: cannot differentiate {libsbml.formulaToL3String(node)!r} in {context!r} "
            f"with respect to {var!r} (supported: + - * / ^, exp, ln, log, root, abs, max, min, piecewise, "
            "trigonometric and hyperbolic functions). Rewrite that rate law (in an equilibrium layer: or leave its "
            "variables out)."
        )
