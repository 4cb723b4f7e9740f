"""The README's generated parts are what the code says."""

from __future__ import annotations

from pathlib import Path

from scripts.endpoints_table import BEGIN, END, markdown

ROOT = Path(__file__).resolve().parents[1]


def test_the_endpoints_and_scopes_section_is_the_endpoint_tables() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index(BEGIN):readme.index(END) + len(END)]
    assert section == markdown(), "run `python scripts/endpoints_table.py --write`"
    for scope in ("lo.read", "enrollment.read", "user.read", "bulkOperations:read",
                  "integrations:read", "integrations:write", "users:read", "groups:read",
                  "courses:read", "courses:write", "courseStats:read"):
        assert f"`{scope}`" in section
