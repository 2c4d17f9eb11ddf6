"""Network diagrams: a bipartite species/reaction graph, with the parts that cannot learn marked dead."""

from __future__ import annotations

import dataclasses

from epl_sysbio.dynamics import (Component, Diffusion, Gene, Node, RdsSpec, Reaction, Space, SpaceLink,
                                  appendix_b_spec)
from epl_sysbio.dynamics.diagram import live_nodes, network_graph, plot_network


def _two_spaces(linked: bool) -> RdsSpec:
    """a + b <-> ab in two spaces; the input and output nodes are in s0; s1 joins only through diffusion."""
    genes = (Gene(name="a", composition={"A": 1}), Gene(name="b", composition={"B": 1}),
             Gene(name="ab", composition={"A": 1, "B": 1}))
    nodes = tuple(Node(gene=g, space=s, roles=r) for g, s, r in (
        ("a", "s0", ("input",)), ("b", "s0", ()), ("ab", "s0", ("output",)), ("a", "s1", ()), ("b", "s1", ()),
        ("ab", "s1", ())))
    reactions = tuple(Reaction(reactants=("a", "b"), product="ab", space=s, rate=k) for s, k in (("s0", 1.0),
                                                                                                 ("s1", 2.0)))
    return RdsSpec(name="two", components=(Component(name="A"), Component(name="B")), genes=genes,
                   spaces=(Space(name="s0"), Space(name="s1")), links=(SpaceLink(a="s0", b="s1"),), nodes=nodes,
                   reactions=reactions,
                   diffusion=(Diffusion(gene="a", a="s0", b="s1", rate=0.5),) if linked else ())


def test_graph_is_bipartite_and_a_disconnected_space_is_dead():
    spec = _two_spaces(linked=False)
    graph = network_graph(spec)
    kinds = {n: d["kind"] for n, d in graph.nodes(data=True)}
    assert sum(k == "reaction" for k in kinds.values()) == 2 and sum(k == "species" for k in kinds.values()) == 6
    assert all({kinds[a], kinds[b]} == {"species", "reaction"} for a, b in graph.edges())
    live = live_nodes(graph)
    assert {n for n in live if kinds[n] == "species"} == {("x", g, "s0") for g in ("a", "b", "ab")}
    linked = network_graph(_two_spaces(linked=True))
    assert len([n for n in live_nodes(linked) if linked.nodes[n]["kind"] == "species"]) == 6


def test_plot_network_writes_a_png(tmp_path):
    path = plot_network(tmp_path / "net.png", _two_spaces(linked=False), title="two spaces")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    spec = appendix_b_spec()
    spec = dataclasses.replace(spec, nodes=tuple(dataclasses.replace(n, roles=()) for n in spec.nodes))
    assert plot_network(tmp_path / "none.png", spec).is_file()  # no roles at all: everything dead, still drawn
