"""An RDS drawn as a bipartite graph of species and reactions (networkx for structure and layout).

:func:`network_graph` turns an :class:`~epl_sysbio.dynamics.RdsSpec` into a
``networkx.Graph`` with two kinds of nodes, as in a Petri net or an SBGN
process diagram:

- species nodes ``("x", gene, space)``, one per RDS node, with its ``role``;
- reaction nodes ``("r", i)``, one per flow edge: a chemical reaction
  ``i + j <-> k`` (linked to its two reactants and its product), a diffusion
  edge or a Hamiltonian edge (linked to the gene's nodes in the two spaces).

Electric coupling (``V_ij != 0``: charged nodes in neighbouring spaces) joins
species without a reaction; it is kept as ``electric`` species-species edges
(drawn as the charge's sign beside each charged species: with a few charges
in each space the pairs would cover the picture).
A node is *live* when its connected component holds an input node and an
output node: only then can what is injected reach what is read. Everything
else is *dead*: it cannot take part in learning however the rates are set.

:func:`plot_network` draws the graph: one box per space, laid out by
networkx's Kamada-Kawai layout (each connected part on its own, parts side
by side), species coloured by role, reaction nodes shaped and coloured by
flow type, reservoir exchange as a gold ring, and dead parts faded and
hatched, with a legend for every colour and shape.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from epl_sysbio.dynamics.spec import RdsSpec

__all__ = ["network_graph", "live_nodes", "plot_network", "ROLE_COLOURS", "FLOW_STYLES"]

#: Species fill colour by role, one colour per role (a node without a role is "hidden").
ROLE_COLOURS = {"input": "#1f77b4", "output": "#d62728", "feedback": "#9467bd", "hidden": "#d9d9d9"}
#: Reaction node marker and colour by flow type.
FLOW_STYLES = {"chemical": ("s", "#4d4d4d"), "diffusion": ("D", "#17becf"), "hamiltonian": ("^", "#ff7f0e")}
_RESERVOIR = "#e6a100"
_ELECTRIC = "#8c6d00"


def network_graph(spec: RdsSpec):
    """The bipartite species/reaction graph of ``spec`` (module docstring) as a ``networkx.Graph``.

    Node attributes: ``kind`` ("species" or "reaction"), ``space``; species also
    ``gene``, ``role``, ``roles``, ``reservoir`` (h), ``charge`` (q); reactions ``flow`` and ``rate``. Edge
    attribute ``kind``: "reactant", "product", "transport" or "electric".
    """
    import networkx as nx

    graph = nx.Graph()
    for n, q in zip(spec.nodes, spec.charges()):
        graph.add_node(("x", n.gene, n.space), kind="species", gene=n.gene, space=n.space,
                       role=n.roles[0] if n.roles else "hidden", roles=n.roles, reservoir=n.reservoir, charge=float(q))
    k = 0
    for r in spec.reactions:
        graph.add_node(("r", k), kind="reaction", flow="chemical", space=r.space, rate=r.rate)
        for g in r.reactants:
            graph.add_edge(("x", g, r.space), ("r", k), kind="reactant")
        graph.add_edge(("r", k), ("x", r.product, r.space), kind="product")
        k += 1
    for flow, edges in (("diffusion", spec.diffusion), ("hamiltonian", spec.hamiltonian)):
        for e in edges:
            graph.add_node(("r", k), kind="reaction", flow=flow, space=None, rate=e.rate, between=(e.a, e.b))
            graph.add_edge(("x", e.gene, e.a), ("r", k), kind="transport")
            graph.add_edge(("r", k), ("x", e.gene, e.b), kind="transport")
            k += 1
    v = spec.electric_matrix()
    for i, j in zip(*np.nonzero(np.triu(v, 1))):
        a, b = spec.nodes[i], spec.nodes[j]
        graph.add_edge(("x", a.gene, a.space), ("x", b.gene, b.space), kind="electric")
    return graph


def live_nodes(graph) -> set:
    """Nodes whose connected component holds both an input and an output species."""
    import networkx as nx

    live = set()
    for part in nx.connected_components(graph):
        roles = {r for n in part if graph.nodes[n]["kind"] == "species" for r in graph.nodes[n]["roles"]}
        if {"input", "output"} <= roles:
            live |= part
    return live


def _layout_space(graph, nodes: list) -> dict:
    """Positions in [0, 1]^2 for the species and chemical reactions of one space: Kamada-Kawai per
    connected part (a disconnected graph would be squeezed by it), parts side by side, widths by size."""
    import networkx as nx

    sub = graph.subgraph(nodes).copy()
    sub.remove_edges_from([(a, b) for a, b, d in sub.edges(data=True) if d["kind"] == "electric"])
    parts = sorted((sorted(p, key=str) for p in nx.connected_components(sub)), key=lambda p: (-len(p), str(p[0])))
    big = [p for p in parts if len(p) > 1]
    single = [p[0] for p in parts if len(p) == 1]
    pos: dict = {}
    widths = [np.sqrt(len(p)) for p in big]
    total = sum(widths) or 1.0
    x0 = 0.0
    height = 0.78 if single else 1.0
    for part, w in zip(big, widths):
        local = nx.kamada_kawai_layout(sub.subgraph(part)) if len(part) > 2 else \
            {n: np.array([i - 0.5, 0.0]) for i, n in enumerate(part)}
        xy = np.array([local[n] for n in part], dtype=float)
        span = np.ptp(xy, axis=0)
        xy = (xy - xy.min(axis=0)) / np.where(span > 0, span, 1.0)
        xy = np.where(span > 0, xy, 0.5)
        frac = w / total
        for n, (x, y) in zip(part, xy):
            pos[n] = (x0 + (0.08 + 0.84 * x) * frac, (1 - height) + (0.06 + 0.88 * y) * height)
        x0 += frac
    for i, n in enumerate(single):  # isolated species: a row along the bottom
        pos[n] = ((i + 0.5) / len(single), 0.1 if big else 0.5)
    return pos


def plot_network(path: str | Path, spec: RdsSpec, *, title: str = "") -> Path:
    """Draw ``spec`` as a bipartite species/reaction diagram into a PNG (module docstring).

    Line widths grow with ``log(1 + rate)``. Returns ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyBboxPatch, Patch

    graph = network_graph(spec)
    live = live_nodes(graph)
    spaces = [s.name for s in spec.spaces]
    crowd = max((sum(1 for _, d in graph.nodes(data=True) if d["space"] == s) for s in spaces), default=1)
    box_w = box_h = max(3.2, 1.05 * np.sqrt(crowd))  # room for the largest space's nodes
    gap = 1.1
    origin = {s: (i * (box_w + gap), 0.0) for i, s in enumerate(spaces)}
    pos: dict = {}
    for s in spaces:
        members = [n for n, d in graph.nodes(data=True) if d["space"] == s]
        for n, (x, y) in _layout_space(graph, members).items():
            pos[n] = (origin[s][0] + 0.15 + x * (box_w - 0.3), origin[s][1] + 0.15 + y * (box_h - 0.5))
    for n, d in graph.nodes(data=True):  # transport reactions sit between their two species
        if d["kind"] == "reaction" and d["space"] is None:
            ends = [pos[m] for m in graph.neighbors(n)]
            pos[n] = tuple(np.mean(ends, axis=0))

    fig_w = max(5.5, (box_w + gap) * len(spaces) * 0.95 + 2.6)
    fig, ax = plt.subplots(figsize=(fig_w, max(4.6, 1.35 * box_h)), dpi=110)
    for s in spaces:
        x, y = origin[s]
        ax.add_patch(FancyBboxPatch((x, y), box_w, box_h, boxstyle="round,pad=0.04", fc="#f3f7fb", ec="#7f9fbf",
                                    lw=1.0, zorder=0))
        ax.text(x + box_w / 2, y + box_h - 0.12, f"space {s}", ha="center", va="top", fontsize=9, color="#4f6f8f")

    def width(rate: float) -> float:
        return float(min(0.6 + 0.8 * np.log1p(rate), 4.0))

    for a, b, d in graph.edges(data=True):
        dead = a not in live or b not in live
        (xa, ya), (xb, yb) = pos[a], pos[b]
        if d["kind"] == "electric":
            continue  # shown as charge signs
        reaction = a if graph.nodes[a]["kind"] == "reaction" else b
        colour = FLOW_STYLES[graph.nodes[reaction]["flow"]][1]
        lw = width(graph.nodes[reaction]["rate"])
        if d["kind"] == "product":  # reaction -> product: an arrow (the reaction runs both ways; it points to k)
            src, dst = (a, b) if a == reaction else (b, a)
            ax.annotate("", xy=pos[dst], xytext=pos[src], zorder=1,
                        arrowprops=dict(arrowstyle="-|>", color=colour, lw=lw, shrinkA=4, shrinkB=9,
                                        alpha=0.3 if dead else 1.0, mutation_scale=10))
        else:
            ax.plot([xa, xb], [ya, yb], color=colour, lw=lw, alpha=0.3 if dead else 1.0, zorder=1,
                    ls="-" if d["kind"] == "reactant" else (0, (4, 2)))
    for n, d in graph.nodes(data=True):
        x, y = pos[n]
        dead = n not in live
        if d["kind"] == "reaction":
            marker, colour = FLOW_STYLES[d["flow"]]
            ax.scatter([x], [y], marker=marker, s=46, c=colour, edgecolors="white", linewidths=0.6, zorder=3,
                       alpha=0.35 if dead else 1.0)
            continue
        ax.scatter([x], [y], s=430, c=ROLE_COLOURS[d["role"]], edgecolors=_RESERVOIR if d["reservoir"] > 0 else "black",
                   linewidths=3.0 if d["reservoir"] > 0 else 0.8, zorder=4, alpha=0.35 if dead else 1.0,
                   hatch="////" if dead else None)
        ax.text(x, y, d["gene"], ha="center", va="center", fontsize=7, zorder=5,
                color="white" if d["role"] in ("input", "output", "feedback") and not dead else "black")
        if d["charge"]:
            ax.text(x + 0.17, y + 0.17, "+" if d["charge"] > 0 else "\u2212", ha="center", va="center", fontsize=11,
                    fontweight="bold", color=_ELECTRIC, zorder=6, alpha=0.4 if dead else 1.0)
    handles = [Line2D([], [], marker="o", ls="", mfc=c, mec="black", ms=10, label=f"{r} species")
               for r, c in ROLE_COLOURS.items()]
    handles += [Line2D([], [], marker="o", ls="", mfc="white", mec=_RESERVOIR, mew=3, ms=10,
                       label="reservoir exchange")]
    handles += [Line2D([], [], marker=m, ls="-", color=c, ms=7, label=f"{f} reaction" if f == "chemical" else f)
                for f, (m, c) in FLOW_STYLES.items()]
    if any(d.get("charge") for _, d in graph.nodes(data=True)):
        handles.append(Line2D([], [], marker="$+$", ls="", color=_ELECTRIC, ms=8,
                              label="charged: coupled electrically to\ncharged species of neighbouring spaces"))
    n_dead = sum(1 for n, d in graph.nodes(data=True) if d["kind"] == "species" and n not in live)
    if n_dead:
        handles.append(Patch(fc="#d9d9d9", ec="black", hatch="////", alpha=0.5,
                             label="dead: no path from an input\nto an output"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False,
              labelspacing=0.9)
    ax.set_xlim(-0.3, len(spaces) * (box_w + gap) - gap + 0.3)
    ax.set_ylim(-0.2, box_h + 0.2)
    ax.set_aspect("equal")
    ax.set_axis_off()
    n_species = len(spec.nodes)
    n_edges = len(spec.reactions) + len(spec.diffusion) + len(spec.hamiltonian)
    summary = f"{n_species} species, {n_edges} reactions" + (f"; {n_dead} species dead" if n_dead else "")
    ax.set_title(f"{title}\n{summary}" if title else summary, fontsize=10)
    fig.savefig(path, bbox_inches="tight")  # the legend sits outside the axes
    plt.close(fig)
    return Path(path)
