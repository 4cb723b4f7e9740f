"""go1sync's own root: what every layer may import (the error root, the version), nothing else."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("go1sync")
except PackageNotFoundError:  # a checkout run without installing it
    __version__ = "0+unknown"
