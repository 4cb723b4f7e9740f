"""A model's version, in two parts, as SQLMesh does: what it computes, and what it says.

The **data fingerprint** is sha256 over what the model computes: its kind, its query in the
sqlglot-normalised form (so layout, comments and keyword or identifier case do not make a new
version, and any change to the computation does), its sources, a seed's content, and the data
fingerprints of the parents its query reads, which carries a change of computation down to
every descendant. Only this one says whether a model changed since the last run.

The **metadata fingerprint** is sha256 over what the model says about its data: its
description, its column docs and its audits. Audits are a promise about the data, not the
data: adding or tightening one changes no row, so it must not flag the model and every model
downstream as changed. Editing docs changes this hash only, and only the model's own: it does
not take its parents' metadata, since a parent's comment says nothing new about its children.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from warehouse.models.audits import Audit
from warehouse.models.seeds import SeedColumn
from warehouse.models.sql import normalised

SHORT = 12  # hex digits shown for a fingerprint on the terminal


def short_fingerprint(fingerprint: str) -> str:
    """The first :data:`SHORT` hex digits: what a person reads and compares in a listing.

    The one place the cut is made, so every listing (``transform``, ``models list``, lineage)
    shows the same prefix of the same hash.
    """
    return fingerprint[:SHORT]


def _digest(payload: Mapping[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def data_fingerprint(*, kind: str, query: str, parents: Mapping[str, str],
                     sources: Iterable[str]) -> str:
    """What the model computes. ``query`` is already normalised; ``parents`` maps each model
    or seed the query reads to that parent's *data* fingerprint (parents read only by an audit
    are not inputs of the data and are left out)."""
    return _digest({
        "kind": kind,
        "query": query,
        "parents": sorted(parents.items()),
        "sources": sorted(sources),
    })


def metadata_fingerprint(*, description: str | None, columns: Mapping[str, str],
                         audits: Iterable[Audit]) -> str:
    """What the model says about its data: description, column docs (names compared as
    DuckDB does, case-insensitively), and audits, order-free."""
    return _digest({
        "description": description,
        "columns": sorted([name.lower(), text] for name, text in columns.items()),
        "audits": sorted([a.name, a.kind, a.blocking, normalised(a.query)] for a in audits),
    })


def seed_fingerprint(columns: Iterable[SeedColumn], data: bytes) -> str:
    """A seed's data fingerprint: its typed header and the bytes of its CSV."""
    return _digest({
        "kind": "seed",
        "columns": [[c.name, c.type] for c in columns],
        "csv": hashlib.sha256(data).hexdigest(),
    })
