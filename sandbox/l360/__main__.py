"""Run the 360Learning sandbox in its own process (for benchmarks and demos).

Prints ``L360_SANDBOX_URL=http://127.0.0.1:PORT`` first (a parent process waits for that line),
then one ``export VAR=value`` line per setting, and serves until SIGTERM or SIGINT. A port in
use is one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sandbox import check_port, listen_error
from sandbox.l360 import L360Sandbox


def _emails(args: argparse.Namespace) -> list[str] | None:
    emails = [part.strip() for value in args.learner_email for part in value.split(",")]
    if args.learner_emails_file is not None:
        text = Path(args.learner_emails_file).read_text("utf-8")
        emails += [line.strip() for line in text.splitlines()]
    emails = [email for email in emails if email and not email.startswith("#")]
    return emails if emails or args.learner_email or args.learner_emails_file else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.l360", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--client-id", default="sandbox-360-client")
    parser.add_argument("--client-secret", default="sandbox-360-secret")
    parser.add_argument("--admin-email", default="admin@acme-corp.com")
    parser.add_argument("--learner-email", action="append", default=[],
                        help="a learner's email (repeatable, or comma-separated)")
    parser.add_argument("--learner-emails-file", help="a file with one learner email a line")
    parser.add_argument("--group-ids", help="comma-separated 24-hex group ids (default: seeded)")
    parser.add_argument("--platform-name", default="Go1")
    parser.add_argument("--operation-delay", type=float, default=None,
                        help="seconds a bulk operation stays pending, queued and running")
    parser.add_argument("--no-rate-limits", action="store_true")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    try:  # before anything is generated
        check_port(args.host, args.port)
    except OSError as exc:
        print(f"{parser.prog}: {listen_error(args.host, args.port, '--port', exc)}",
              file=sys.stderr)
        return 1

    groups = [g.strip() for g in args.group_ids.split(",") if g.strip()] \
        if args.group_ids else None
    sandbox = L360Sandbox(args.client_id, args.client_secret, args.admin_email, _emails(args),
                          groups, args.seed, args.platform_name)
    sandbox.faults.latency_ms = args.latency_ms
    sandbox.faults_360.rate_limits = not args.no_rate_limits
    if args.operation_delay is not None:
        sandbox.faults_360.operation_delay_s = args.operation_delay
    sandbox.serve_in_foreground(args.host, args.port, "L360_SANDBOX_URL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
