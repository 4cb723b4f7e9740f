"""Reading Go1: the HTTP client, its retry policy and its errors.

The names are imported when first used (PEP 562), so importing a light module of the package
(``extract.timestamps``, for the CLI's options) does not load the HTTP client.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {"ClientStats": "apiclient.client", "RetryPolicy": "apiclient.retry",
          "Go1Client": "extract.client", "Page": "extract.client",
          "AuthError": "extract.errors", "ExtractError": "extract.errors",
          "ScopeError": "extract.errors", "ScrollExpired": "extract.errors"}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'extract' has no attribute {name!r}")
    return getattr(importlib.import_module(_NAMES[name]), name)
