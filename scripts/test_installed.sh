#!/usr/bin/env bash
# The whole test suite against the wheel a user installs, not the checkout: the wheel is built
# and installed non-editable into a venv of its own, and the suite runs in a copy of the tree
# whose packages' .py files are deleted, so every import must come from site-packages (the
# suite notices the mode: tests.helpers.INSTALLED). The tests, models and contracts stay, as
# the tests read them. About 11 minutes on 2 cores; .ci/run runs the editable suite and the
# wheel's demo instead, to stay under its 15 minutes.
#
#     bash scripts/test_installed.sh [pytest arguments]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

git -C "$root" archive HEAD | tar -x -C "$work" --one-top-level=tree
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" "$work/tree"
wheel="$(ls "$work"/dist/go1sync-*.whl)"
"$work/venv/bin/python" -m pip install --quiet "go1sync[test,dev] @ file://$wheel"
(cd "$work/tree" && find go1sync apiclient commands extract load reconcile warehouse sandbox bench \
   -name '*.py' -delete)
cd "$work/tree"
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
