"""A local stand-in of the Go1 API: ``Go1Sandbox`` serves seeded ``Go1Seed`` data over HTTP.

See :mod:`sandbox.go1.sandbox` for the Python interface and :mod:`sandbox.go1.app` for the
HTTP behaviour and error codes; ``python -m sandbox.go1 --help`` runs it in its own process.
"""

from sandbox.go1.data import Go1Seed
from sandbox.go1.sandbox import Go1Sandbox

__all__ = ["Go1Sandbox", "Go1Seed"]
