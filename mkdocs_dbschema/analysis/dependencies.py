"""Dependency levels of the foreign-key graph.

Level 0 references nothing; any other table sits one above the highest table it
references. Tables that reference each other (a cycle of any length) form one
group sharing one level; a table referencing itself does not raise its level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    level: int
    cycle: tuple[str, ...] = ()  # every member of its cycle, itself included
    self_reference: bool = False


def strongly_connected(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components come out dependencies first."""
    nodes = sorted(set(graph) | {t for targets in graph.values() for t in targets})
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def dependency_levels(graph: Mapping[str, Sequence[str]]) -> dict[str, Level]:
    levels: dict[str, Level] = {}
    for component in strongly_connected(graph):
        members = set(component)
        referenced = {t for m in component for t in graph.get(m, ()) if t not in members}
        level = 1 + max((levels[t].level for t in referenced), default=-1)
        cycle = tuple(component) if len(component) > 1 else ()
        for member in component:
            levels[member] = Level(level, cycle, member in graph.get(member, ()))
    return levels
