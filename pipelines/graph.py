"""Graph helpers shared by validation and the runner: port references, order, cycles."""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass

_REF = re.compile(r"^([A-Za-z][A-Za-z0-9_-]{0,63})\.([A-Za-z][A-Za-z0-9_]{0,63})$")


@dataclass(frozen=True, order=True)
class PortRef:
    """``block.port`` in a wire."""

    block: str
    port: str

    @staticmethod
    def parse(text: str) -> PortRef | None:
        m = _REF.match(text.strip())
        return PortRef(m.group(1), m.group(2)) if m else None

    def __str__(self) -> str:
        return f"{self.block}.{self.port}"


def topological_order(nodes: list[str], edges: set[tuple[str, str]]) -> tuple[list[str], set[str]]:
    """Kahn's order with ties broken by position in ``nodes`` (deterministic).

    Returns the order of every node not on or behind a cycle, and the nodes left over.
    """
    index = {n: i for i, n in enumerate(nodes)}
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    indeg = dict.fromkeys(nodes, 0)
    for a, b in sorted(edges, key=lambda e: (index[e[0]], index[e[1]])):
        succ[a].append(b)
        indeg[b] += 1
    ready = [index[n] for n in nodes if indeg[n] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        n = nodes[heapq.heappop(ready)]
        order.append(n)
        for m in succ[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                heapq.heappush(ready, index[m])
    return order, set(nodes) - set(order)


def cycles(nodes: list[str], edges: set[tuple[str, str]]) -> list[list[str]]:
    """One cycle per strongly connected component that has one, as a closed path.

    Each path starts at the component's first node in ``nodes`` order and ends with it
    again, e.g. ``["fit", "predict", "fit"]``.
    """
    index = {n: i for i, n in enumerate(nodes)}
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        succ[a].append(b)
    for n in succ:
        succ[n].sort(key=index.__getitem__)
    out = []
    for comp in _sccs(nodes, succ):
        start = min(comp, key=index.__getitem__)
        if len(comp) == 1 and start not in succ[start]:
            continue
        out.append(_path_back(start, comp, succ))
    out.sort(key=lambda path: index[path[0]])
    return out


def _sccs(nodes: list[str], succ: dict[str, list[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components, iterative."""
    counter = 0
    low: dict[str, int] = {}
    num: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    comps: list[set[str]] = []
    for root in nodes:
        if root in num:
            continue
        work = [(root, 0)]
        while work:
            n, i = work.pop()
            if i == 0:
                num[n] = low[n] = counter
                counter += 1
                stack.append(n)
                on_stack.add(n)
            if i < len(succ[n]):
                work.append((n, i + 1))
                m = succ[n][i]
                if m not in num:
                    work.append((m, 0))
                elif m in on_stack:
                    low[n] = min(low[n], num[m])
                continue
            if low[n] == num[n]:
                comp = set()
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.add(m)
                    if m == n:
                        break
                comps.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[n])
    return comps


def _path_back(start: str, comp: set[str], succ: dict[str, list[str]]) -> list[str]:
    """Shortest path start -> ... -> start inside one component (breadth first)."""
    prev: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for n in frontier:
            for m in succ[n]:
                if m not in comp:
                    continue
                if m == start:
                    path = [n]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return [*reversed(path), start]
                if m not in prev:
                    prev[m] = n
                    nxt.append(m)
        frontier = nxt
    return [start, start]


def forward_closure(starts: set[str], edges: set[tuple[str, str]]) -> set[str]:
    succ: dict[str, list[str]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    seen = set(starts)
    todo = list(starts)
    while todo:
        n = todo.pop()
        for m in succ.get(n, ()):
            if m not in seen:
                seen.add(m)
                todo.append(m)
    return seen
