"""A model's version: sha256 over what it computes, what it promises, and its parents' versions.

Following SQLMesh, the query is hashed in its sqlglot-normalised form, so layout, comments and
keyword or identifier case do not make a new version, and any change to the computation does.
Hashing the parents' fingerprints carries a change down to every descendant.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from warehouse.models.audits import Audit
from warehouse.models.seeds import SeedColumn
from warehouse.models.sql import normalised

SHORT = 12


def _digest(payload: Mapping[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def model_fingerprint(*, kind: str, query: str, columns: Mapping[str, str],
                      description: str | None, audits: Iterable[Audit],
                      parents: Mapping[str, str], sources: Iterable[str]) -> str:
    """``query`` is already normalised; ``parents`` maps each parent to its fingerprint."""
    return _digest({
        "kind": kind,
        "query": query,
        "columns": sorted([name.lower(), text] for name, text in columns.items()),
        "description": description,
        "audits": sorted([a.name, a.kind, a.blocking, normalised(a.query)] for a in audits),
        "parents": sorted(parents.items()),
        "sources": sorted(sources),
    })


def seed_fingerprint(columns: Iterable[SeedColumn], data: bytes) -> str:
    return _digest({
        "kind": "seed",
        "columns": [[c.name, c.type] for c in columns],
        "csv": hashlib.sha256(data).hexdigest(),
    })
