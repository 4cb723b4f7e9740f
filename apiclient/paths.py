"""Values placed in URL paths.

An id comes from an API or a warehouse row, not from us: pasted raw, ``a/b?c`` would turn
``/learning-objects/{id}`` into another resource with a query. Each value is one
percent-encoded path segment, whatever it holds.
"""

from __future__ import annotations

from urllib.parse import quote


def segment(value: object) -> str:
    """``value`` as one URL path segment: every reserved character percent-encoded."""
    return quote(str(value), safe="")
