"""A sandbox in its own process, as ``python -m sandbox.go1`` / ``sandbox.l360`` serve it, that
also counts the requests it answers, for a benchmark to read between runs.

    python bench/served.py go1 [sandbox.go1's options] [--learner-emails-out FILE]
    python bench/served.py l360 [sandbox.l360's options]

The sandbox's own ``main`` parses the options, generates and serves; this wrapper only hooks
``serve_in_foreground`` to count every answered request by route (``GET /user-accounts/{id}``)
and status, and, for Go1, to write the learners' emails (:func:`sandbox.learners.learner_emails`,
as ``cli.py sandbox`` seeds 360Learning with) before the ready lines. The counts never keep the
requests themselves: the request log the sandbox keeps is capped at 200,000 entries, fewer than a
first run at 2,000,000 enrollments makes.

Each line ``counts`` on stdin is answered on stdout with one line ``counts {json}``: the counts
since the previous ``counts`` line (then reset), as ``{"METHOD pattern": {"status": n}}``.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.httpserver import ApiServer, Request, Response, ServedApi  # noqa: E402


def route_of(routes: list[tuple[str, re.Pattern[str], str]], method: str, path: str) -> str:
    for route_method, regex, pattern in routes:
        if route_method == method and regex.match(path):
            return f"{method} {pattern}"
    return f"{method} {path} (no route)"


def count_requests(server: ApiServer) -> Callable[[], dict[str, dict[str, int]]]:
    """Wrap ``server.handle`` to count answers by route and status; return a function that
    hands over the counts so far and starts afresh."""
    routes = [(method, re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", pattern) + "$"), pattern)
              for method, pattern in server.router.routes()]
    # static routes first, as the router matches them (/bulk/operations before {id})
    routes.sort(key=lambda route: "{" in route[2])
    counts: Counter[tuple[str, int]] = Counter()
    lock = threading.Lock()
    handle = server.handle

    def counted(request: Request) -> Response | None:
        response = handle(request)
        key = (route_of(routes, request.method, request.path),
               0 if response is None else response.status)
        with lock:
            counts[key] += 1
        return response

    setattr(server, "handle", counted)  # noqa: B010 - the instance's, not the class's

    def take() -> dict[str, dict[str, int]]:
        with lock:
            taken = dict(counts)
            counts.clear()
        found: dict[str, dict[str, int]] = {}
        for (route, status), n in sorted(taken.items()):
            found.setdefault(route, {})[str(status)] = n
        return found

    return take


def answer_stdin(take: Callable[[], dict[str, dict[str, int]]]) -> None:
    for line in sys.stdin:
        if line.strip() == "counts":
            print("counts " + json.dumps(take()), flush=True)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("go1", "l360"):
        print(__doc__, file=sys.stderr)
        return 2
    kind, argv = sys.argv[1], sys.argv[2:]
    emails_out: Path | None = None
    if "--learner-emails-out" in argv:
        at = argv.index("--learner-emails-out")
        emails_out = Path(argv[at + 1])
        del argv[at:at + 2]

    serve = ServedApi.serve_in_foreground

    def hooked(api: ServedApi, host: str, port: int, url_variable: str) -> None:
        if emails_out is not None:
            from sandbox.go1 import Go1Sandbox
            from sandbox.learners import learner_emails

            assert isinstance(api, Go1Sandbox)
            emails_out.write_text("".join(f"{email}\n" for email in learner_emails(api)))
        take = count_requests(api._server)
        threading.Thread(target=answer_stdin, args=(take,), daemon=True).start()
        serve(api, host, port, url_variable)

    setattr(ServedApi, "serve_in_foreground", hooked)  # noqa: B010
    main_of: Any
    if kind == "go1":
        from sandbox.go1.__main__ import main as main_of
    else:
        from sandbox.l360.__main__ import main as main_of
    return int(main_of(argv))


if __name__ == "__main__":
    sys.exit(main())
