"""Run the Go1 sandbox in its own process (for benchmarks and demos).

Prints ``GO1_SANDBOX_URL=http://127.0.0.1:PORT`` first (a parent process waits for that line),
then one ``export VAR=value`` line per setting, and serves until SIGTERM or SIGINT. A port in
use is one line on stderr and exit 1; a size that cannot be generated, exit 2.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from datetime import UTC, datetime

from sandbox import check_port, listen_error, users_for
from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.go1.app import GATEWAY_ENROLLMENTS_PATH, OPENAPI_SERVER_ENROLLMENTS_PATH


def _date(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    defaults = Go1Seed()
    parser = argparse.ArgumentParser(prog="python -m sandbox.go1", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--learning-objects", type=int, default=defaults.learning_objects)
    parser.add_argument("--users", type=int,
                        help=f"default: {defaults.users}, more for more than "
                             f"{defaults.enrollments} enrollments (the same ratio)")
    parser.add_argument("--enrollments", type=int, default=defaults.enrollments)
    parser.add_argument("--start", type=_date, default=defaults.start, help="ISO date")
    parser.add_argument("--end", type=_date, default=defaults.end, help="ISO date")
    parser.add_argument("--description-bytes", type=int, default=defaults.description_bytes,
                        help="pad every learning object's description to this many characters")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--client-id", default="sandbox-go1-client")
    parser.add_argument("--client-secret", default="sandbox-go1-secret")
    parser.add_argument("--portal-url", default="https://acme.mygo1.com")
    parser.add_argument("--enrollments-path", default=GATEWAY_ENROLLMENTS_PATH,
                        help="where the enrollment list answers (default %(default)s, the "
                             f"gateway's; {OPENAPI_SERVER_ENROLLMENTS_PATH} models a gateway "
                             "that follows the OpenAPI's relative server entry)")
    args = parser.parse_args(argv)
    try:  # before anything is generated
        check_port(args.host, args.port)
    except OSError as exc:
        print(f"{parser.prog}: {listen_error(args.host, args.port, '--port', exc)}",
              file=sys.stderr)
        return 1

    started = time.perf_counter()
    try:
        seed = Go1Seed(seed=args.seed, learning_objects=args.learning_objects,
                       users=args.users or users_for(args.enrollments),
                       enrollments=args.enrollments, start=args.start, end=args.end,
                       description_bytes=args.description_bytes)
        sandbox = Go1Sandbox(seed, args.client_id, args.client_secret, args.portal_url,
                             args.enrollments_path)
    except ValueError as exc:  # sizes the generator cannot meet
        print(f"{parser.prog}: {exc} (--users, --learning-objects, --enrollments)",
              file=sys.stderr)
        return 2
    gc.freeze()  # the data set lives as long as the process: keep it out of every collection
    sandbox.faults.latency_ms = args.latency_ms
    print(f"# generated in {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
    sandbox.serve_in_foreground(args.host, args.port, "GO1_SANDBOX_URL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
