"""Preference cycles among the responses to one prompt: A > B, B > C, C > A.

Each labelled pair is an edge winner -> loser between two responses of the same prompt. A set
of preferences is transitive exactly when this graph has no directed cycle, and an edge lies
on a cycle exactly when both its ends are in the same strongly connected component. Two pairs
that say A > B and B > A (the same two responses, opposite labels) are a duplicate conflict,
not a transitivity failure: such edges are left out before the search, so every cycle found
runs through three or more responses.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


@dataclass
class Cycles:
    on_cycle: np.ndarray  # (E,) bool, the edge lies on a directed cycle of 3+ responses
    # Some directed triangles, as edge indices (a > b, b > c, c > a), at most `max_triangles`.
    triangles: list[tuple[int, int, int]] = field(default_factory=list)
    prompts_with_cycles: int = 0


def preference_cycles(
    *, prompt: np.ndarray, winner: np.ndarray, loser: np.ndarray, max_triangles: int = 1000
) -> Cycles:
    """prompt, winner, loser: (E,) int ids; winner and loser are response ids under `prompt`."""
    prompt, winner, loser = (np.asarray(a, dtype=np.int64) for a in (prompt, winner, loser))
    if not prompt.shape == winner.shape == loser.shape or prompt.ndim != 1:
        raise ValueError("prompt, winner and loser must be equal 1-D shapes")
    n_edges = len(prompt)
    on_cycle = np.zeros(n_edges, dtype=bool)
    if n_edges == 0:
        return Cycles(on_cycle=on_cycle)
    nodes: dict[tuple[int, int], int] = {}
    src = np.array(
        [
            nodes.setdefault((p, w), len(nodes))
            for p, w in zip(prompt.tolist(), winner.tolist(), strict=True)
        ]
    )
    dst = np.array(
        [
            nodes.setdefault((p, r), len(nodes))
            for p, r in zip(prompt.tolist(), loser.tolist(), strict=True)
        ]
    )
    directions = set(zip(src.tolist(), dst.tolist(), strict=True))
    usable = np.array(
        [
            (d, s) not in directions and s != d
            for s, d in zip(src.tolist(), dst.tolist(), strict=True)
        ]
    )
    n_nodes = len(nodes)
    graph = coo_matrix(
        (np.ones(int(usable.sum())), (src[usable], dst[usable])), shape=(n_nodes, n_nodes)
    ).tocsr()
    _, component = connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(component, minlength=n_nodes)
    on_cycle = usable & (component[src] == component[dst]) & (sizes[component[src]] >= 3)
    triangles = _triangles(src, dst, np.flatnonzero(on_cycle), limit=max_triangles)
    return Cycles(
        on_cycle=on_cycle,
        triangles=triangles,
        prompts_with_cycles=len(np.unique(prompt[on_cycle])),
    )


def _triangles(
    src: np.ndarray, dst: np.ndarray, edges: np.ndarray, *, limit: int
) -> list[tuple[int, int, int]]:
    """Directed triangles among the given edges, each once, as edge indices."""
    edge_of: dict[tuple[int, int], int] = {}
    successors: dict[int, list[int]] = defaultdict(list)
    for e in edges.tolist():
        key = (int(src[e]), int(dst[e]))
        if key not in edge_of:
            edge_of[key] = e
            successors[key[0]].append(key[1])
    found: list[tuple[int, int, int]] = []
    for (a, b), ab in edge_of.items():
        for c in successors.get(b, []):
            ca = edge_of.get((c, a))
            # each triangle is met three times, once from each edge: keep the smallest node first
            if ca is not None and a < b and a < c:
                found.append((ab, edge_of[(b, c)], ca))
                if len(found) >= limit:
                    return found
    return found
