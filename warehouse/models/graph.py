"""The model DAG: a stable dependency order, cycle finding, and a selection's upstream."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence


class CycleError(Exception):
    """The nodes of one cycle, in order, the first repeated at the end."""

    def __init__(self, cycle: list[str]) -> None:
        super().__init__(" -> ".join(cycle))
        self.cycle = cycle


def dependency_order(parents: Mapping[str, Sequence[str]],
                     rank: Callable[[str], tuple[object, ...]]) -> list[str]:
    """Parents before children; among ready nodes the smallest ``rank`` first (stable output).

    Raises :class:`CycleError` naming one cycle if the graph has any.
    """
    waiting = {node: len(set(ps)) for node, ps in parents.items()}
    children: dict[str, list[str]] = {node: [] for node in parents}
    for node, ps in parents.items():
        for parent in set(ps):
            children[parent].append(node)
    ready = [(rank(node), node) for node, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, node = heapq.heappop(ready)
        order.append(node)
        for child in children[node]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (rank(child), child))
    if len(order) < len(parents):
        raise CycleError(_find_cycle({n for n in parents if n not in order}, parents))
    return order


def _find_cycle(stuck: set[str], parents: Mapping[str, Sequence[str]]) -> list[str]:
    """Walk parent links among the stuck nodes until one repeats: that loop is a cycle."""
    node = min(stuck)
    path: list[str] = []
    while node not in path:
        path.append(node)
        node = min(p for p in parents[node] if p in stuck)
    cycle = path[path.index(node):] + [node]
    cycle.reverse()  # parent -> child, the way refs flow
    return cycle


def upstream(selected: Iterable[str], parents: Mapping[str, Sequence[str]]) -> set[str]:
    """The selected nodes and everything they read from, transitively."""
    seen: set[str] = set()
    stack = list(selected)
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(parents[node])
    return seen
