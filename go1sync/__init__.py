"""go1sync's own package: the CLI and what faces the user (``cli``, ``console``, ``progress``),
the settings and the schedule, and what every layer may import (the error root, the version).

The card's folders (``extract/``, ``load/``, ``warehouse/``…) stay top-level; the modules
that were loose beside them live here, so an install adds no top-level module named like
another package (``schedule``, ``settings``, ``cli``)."""

# The one owner of the version: pyproject.toml reads it (dynamic version, attr), so a checkout
# and an install say the same without importlib.metadata (a quarter-second at every start).
__version__ = "0.1.0"
