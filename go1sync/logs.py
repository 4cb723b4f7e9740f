"""Where log records go: stderr, as text for people or one JSON object a line for machines.

``--log-format json`` makes every record a line a log shipper can parse without a pattern:
the UTC time, the level, the logger and the message (already scrubbed of secrets by the
clients). Progress bars and the commands' own output are not log records and stay as they are.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

FORMATS = ("text", "json")
TEXT = "%(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(
                     timespec="milliseconds").replace("+00:00", "Z"),
                 "level": record.levelname, "logger": record.name,
                 "message": record.getMessage()}
        return json.dumps(entry, ensure_ascii=False)


def configure(verbose: bool = False, log_format: str = "text") -> None:
    """One stderr handler on the root logger: INFO with ``-v``, WARNING otherwise."""
    handler = logging.StreamHandler(sys.stderr)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    use_format(log_format)


def use_format(log_format: str) -> None:
    formatter = JsonLines() if log_format == "json" else logging.Formatter(TEXT)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
