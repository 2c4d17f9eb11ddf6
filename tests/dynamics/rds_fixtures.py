"""Shared specs for the dynamics tests (imported by name: test directories are on sys.path)."""

from __future__ import annotations

from epl_sysbio.dynamics import (
    Component,
    Diffusion,
    Gene,
    HamiltonianEdge,
    Node,
    RdsSpec,
    Reaction,
    Space,
    SpaceLink,
)


def small_spec(*, friction: float = 0.4, reservoir: float = 0.5) -> RdsSpec:
    """Three spaces, charged components, one reaction, one diffusion and one Hamiltonian edge, a reservoir."""
    cells = [("A", "out"), ("A", "mem"), ("A", "ins"), ("B", "ins"), ("AB", "ins"), ("B", "mem"), ("AB", "mem")]
    return RdsSpec(
        name="small",
        components=(Component(name="a", mass=1.0, charge=1.0), Component(name="b", mass=2.0, charge=-1.0)),
        genes=(Gene(name="A", composition={"a": 1}, potential=0.1), Gene(name="B", composition={"b": 1}),
               Gene(name="AB", composition={"a": 1, "b": 1}, potential=-0.5)),
        spaces=(Space(name="out"), Space(name="mem"), Space(name="ins")),
        links=(SpaceLink(a="out", b="mem", distance=1.0), SpaceLink(a="mem", b="ins", distance=2.0)),
        nodes=tuple(Node(gene=g, space=s, initial_amount=1.0 + 0.1 * i, friction=friction,
                         reservoir=reservoir if (g, s) == ("AB", "mem") else 0.0,
                         roles=("input",) if (g, s) == ("A", "out") else ())
                    for i, (g, s) in enumerate(cells)),
        reactions=(Reaction(reactants=("A", "B"), product="AB", space="ins", rate=0.7),),
        diffusion=(Diffusion(gene="A", a="out", b="mem", rate=1.3),),
        hamiltonian=(HamiltonianEdge(gene="A", a="mem", b="ins", rate=0.9),),
    )
