"""The DAG drawn three ways: plain text for the terminal, Mermaid for Markdown, DOT for Graphviz.

Sources (``raw.*``, ``meta.*``) are nodes too, so the picture starts where the extractor
lands data and ends at the marts the loader pushes.
"""

from __future__ import annotations

import json
import re

from warehouse.models.fingerprint import short_fingerprint
from warehouse.models.project import Project


def _nodes_and_edges(project: Project) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Qualified node name -> kind, and (parent, child) edges, parents first."""
    nodes: dict[str, str] = {source: "source" for source in project.sources}
    edges: list[tuple[str, str]] = []
    for model in project.models.values():
        nodes[model.qualified] = model.kind
        for parent in model.parents:
            edges.append((project.models[parent].qualified, model.qualified))
        for source in model.sources:
            edges.append((source, model.qualified))
    return nodes, edges


def lineage_text(project: Project) -> str:
    """Each model with its kind and short version, and the inputs it reads (``<-``)."""
    nodes, edges = _nodes_and_edges(project)
    lines = [f"sources: {', '.join(project.sources) or '(none)'}"]
    for model in project.models.values():
        lines.append(f"{model.qualified} ({model.kind}, {short_fingerprint(model.fingerprint)})")
        inputs = [parent for parent, child in edges if child == model.qualified]
        lines.extend(f"  <- {parent} ({nodes[parent]})" for parent in inputs)
    return "\n".join(lines) + "\n"


_MERMAID_SHAPE = {"source": '[("{}")]', "seed": '[/"{}"/]', "view": '("{}")', "table": '["{}"]'}


def _mermaid_id(name: str) -> str:
    return re.sub(r"\W", "_", name.replace(".", "__"))


def lineage_mermaid(project: Project) -> str:
    """``flowchart LR``: sources as cylinders, seeds as parallelograms, views rounded."""
    nodes, edges = _nodes_and_edges(project)
    lines = ["flowchart LR"]
    for name, kind in nodes.items():
        label = name.replace('"', "'")
        lines.append(f"    {_mermaid_id(name)}{_MERMAID_SHAPE[kind].format(label)}")
    lines.extend(f"    {_mermaid_id(a)} --> {_mermaid_id(b)}" for a, b in edges)
    return "\n".join(lines) + "\n"


_DOT_SHAPE = {"source": "shape=cylinder", "seed": "shape=note",
              "view": "shape=box, style=rounded", "table": "shape=box"}


def lineage_dot(project: Project) -> str:
    """``digraph lineage``, left to right, one statement per node and per edge."""
    nodes, edges = _nodes_and_edges(project)
    lines = ["digraph lineage {", "    rankdir=LR;"]
    lines.extend(f"    {json.dumps(name)} [{_DOT_SHAPE[kind]}];" for name, kind in nodes.items())
    lines.extend(f"    {json.dumps(a)} -> {json.dumps(b)};" for a, b in edges)
    lines.append("}")
    return "\n".join(lines) + "\n"
