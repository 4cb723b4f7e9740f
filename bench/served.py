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
``seconds`` answers ``seconds {json}``: the seconds spent in the sandbox's handler by route
since the previous ``seconds`` line (the stand-in's own work, apart from the client's).
For 360Learning, ``sizes`` answers ``sizes {json}`` (its courses by type, attempts and users),
and ``drift N`` renames N of the integration's courses, spread over the external ids, as someone
editing them in 360Learning would (:meth:`sandbox.l360.L360Sandbox.edit_course`), and answers
``drifted {json}`` with their external ids: what ``bench/reconcile_bench.py --drift`` needs.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
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


Take = Callable[[], dict[str, Any]]


def count_requests(server: ApiServer) -> tuple[Take, Take]:
    """Wrap ``server.handle`` to count answers by route and status, and the seconds spent in
    the handler by route; return two functions that hand over the counts (the seconds) so far
    and start afresh."""
    routes = [(method, re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", pattern) + "$"), pattern)
              for method, pattern in server.router.routes()]
    # static routes first, as the router matches them (/bulk/operations before {id})
    routes.sort(key=lambda route: "{" in route[2])
    counts: Counter[tuple[str, int]] = Counter()
    seconds: dict[str, float] = {}
    lock = threading.Lock()
    handle = server.handle

    def counted(request: Request) -> Response | None:
        began = time.perf_counter()
        response = handle(request)
        spent = time.perf_counter() - began
        key = (route_of(routes, request.method, request.path),
               0 if response is None else response.status)
        with lock:
            counts[key] += 1
            seconds[key[0]] = seconds.get(key[0], 0.0) + spent
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

    def take_seconds() -> dict[str, Any]:
        with lock:
            taken = {route: round(spent, 3) for route, spent in sorted(seconds.items())}
            seconds.clear()
        return taken

    return take, take_seconds


def l360_sizes(api: ServedApi) -> dict[str, Any]:
    """What the 360Learning sandbox holds: the world a read-back has to page through."""
    from sandbox.l360 import L360Sandbox

    assert isinstance(api, L360Sandbox)
    store = api._store
    with store.lock:
        by_type = Counter(str(c.get("type", "external")) for c in store.courses.values())
        return {"courses": dict(by_type), "attempts": len(store.attempts),
                "users": len(store.users)}


def l360_drift(api: ServedApi, n: int) -> list[str]:
    """Rename ``n`` external courses, evenly spread over their sorted external ids."""
    from sandbox.l360 import L360Sandbox

    assert isinstance(api, L360Sandbox)
    with api._store.lock:
        ids = sorted(external for (_, external), c in api._store.courses.items()
                     if c.get("type", "external") == "external")
        names = {external: c["name"] for (_, external), c in api._store.courses.items()}
    step = max(1, len(ids) // max(1, n))
    chosen = ids[::step][:n]
    for external_id in chosen:
        api.edit_course(external_id, name=f"{names[external_id]} (edited in 360Learning)")
    return chosen


def answer_stdin(take: Take, take_seconds: Take, api: ServedApi) -> None:
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "counts":
            print("counts " + json.dumps(take()), flush=True)
        elif command == "seconds":
            print("seconds " + json.dumps(take_seconds()), flush=True)
        elif command == "sizes":
            print("sizes " + json.dumps(l360_sizes(api)), flush=True)
        elif command == "drift":
            print("drifted " + json.dumps(l360_drift(api, int(argument))), flush=True)


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
        take, take_seconds = count_requests(api._server)
        threading.Thread(target=answer_stdin, args=(take, take_seconds, api),
                         daemon=True).start()
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
