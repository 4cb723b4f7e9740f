"""A local stand-in of the 360Learning API v2: ``L360Sandbox`` serves one platform over HTTP.

See :mod:`sandbox.l360.sandbox` for the Python interface, :mod:`sandbox.l360.app` for the HTTP
behaviour and error bodies, :mod:`sandbox.l360.processors` for what bulk operations do (the
statistics attempt rule) and :mod:`sandbox.l360.bulk` for their lifecycle;
``python -m sandbox.l360 --help`` runs it in its own process.
"""

from sandbox.l360.knobs import L360Faults
from sandbox.l360.sandbox import L360Sandbox

__all__ = ["L360Faults", "L360Sandbox"]
