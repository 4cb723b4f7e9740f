"""Local stand-ins of the APIs go1sync talks to, with seeded data and fault knobs (tests only).

What both ways of serving them share (``python cli.py sandbox`` and ``python -m sandbox.go1``
or ``sandbox.l360``): how many learners a data set gets when not told, and the one line a port
that cannot be listened on gets. Only the standard library is imported here, so that importing
any ``sandbox.*`` module stays free of cycles.
"""

from __future__ import annotations

import errno
import socket


def users_for(enrollments: int) -> int:
    """The learners of a Go1 sandbox of ``enrollments`` enrollments when ``--users`` is not
    given: the default seed's ratio (2,000 enrollments for 80 learners, 25 each), never fewer
    than its 80. With a fixed number of learners, a large ``--enrollments`` runs out of distinct
    (learner, learning object) pairs and the generator gives up."""
    from sandbox.go1.model import Go1Seed

    default = Go1Seed()
    per_user = default.enrollments // default.users
    return max(default.users, -(-enrollments // per_user))


def listen_error(host: str, port: int, option: str, exc: OSError) -> str:
    """The one line for a stand-in that cannot listen on ``host:port``, naming the option
    that chose the port; a port in use says what to do about it."""
    line = f"cannot listen on {host}:{port} ({option}): {exc.strerror or exc}"
    if exc.errno == errno.EADDRINUSE:
        line += (f"; another sandbox may be running: stop it, or choose another {option} "
                 "(0: any free port)")
    return line


def check_port(host: str, port: int) -> None:
    """Raise the ``OSError`` that serving on ``host:port`` would meet, before seconds are spent
    generating data; port 0 always works. Binds as the server does (``SO_REUSEADDR``), so a
    port still in ``TIME_WAIT`` after a sandbox stopped is not refused."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
