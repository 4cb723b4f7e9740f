"""go1sync's own package: the CLI and what faces the user (``cli``, ``console``, ``progress``),
the settings and the schedule, and what every layer may import (the error root, the version).

The card's folders (``extract/``, ``load/``, ``warehouse/``…) stay top-level; the modules
that were loose beside them live here, so an install adds no top-level module named like
another package (``schedule``, ``settings``, ``cli``)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("go1sync")
except PackageNotFoundError:  # a checkout run without installing it
    __version__ = "0+unknown"
