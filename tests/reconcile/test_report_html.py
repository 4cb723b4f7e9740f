"""The reconciliation report as HTML: complete, escaped, self-contained, and usable offline."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import reconcile.html
from reconcile.charts import PALETTE_SIZE, palette
from reconcile.formatting import format_cell
from reconcile.html import MAX_ROWS, render_html
from reconcile.report import EXCLUDED, HISTORY_RUNS, Category, Context, HistoryPoint, Report

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "screenshot_report.py"
TEMPLATES = ROOT / "reconcile" / "templates"
# loaded from its path: ``scripts`` is a folder of scripts, not a package (and ``mypy .`` must
# see the file under one module name only)
_spec = importlib.util.spec_from_file_location("screenshot_report", SCRIPT)
assert _spec is not None and _spec.loader is not None
screenshot_report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(screenshot_report)
NOW = datetime(2024, 5, 14, 9, 30, tzinfo=UTC)
HOSTILE = '<script>alert(1)</script> "a" & b'
COLUMNS = ["go1_key", "user_email", "go1_value", "l360_value", "detail"]
HEADERS = ["Go1 id", "Learner", "Go1 / pushed", "360Learning", "Detail"]  # as the page says


def _rows(n: int, go1_value: Any = "Fire safety") -> list[dict[str, Any]]:
    return [
        {"go1_key": 1000 + i, "user_email": f"u{i}@example.com", "go1_value": go1_value,
         "l360_value": None, "detail": "differs"}
        for i in range(n)
    ]


def _history(n: int) -> list[HistoryPoint]:
    return [
        HistoryPoint(10 + i, NOW - timedelta(days=n - i), {"course_missing": 3 + i, "rejected": 1})
        for i in range(n)
    ]


def _report(history: int = 4, **rows: list[dict[str, Any]]) -> Report:
    """Two categories that need action (``attempt_missing`` empty unless given rows) and one
    excluded by design, listed out of order: the report orders them."""
    categories = [
        Category("rejected", "Rejected by the mapping", "See the reason.",
                 COLUMNS, rows.get("rejected", _rows(57)), kind=EXCLUDED, severity=12),
        Category("attempt_missing", "Attempt missing in 360Learning", "Requeue and push.",
                 COLUMNS, rows.get("attempt_missing", []), severity=4),
        Category("course_missing", "Course missing in 360Learning", "Push it again.", COLUMNS,
                 rows.get("course_missing", _rows(3, HOSTILE)), severity=1),
    ]
    return Report(run_id=42, generated_at=NOW, categories=categories, history=_history(history),
                  context=Context("production", "https://app.360learning.com",
                                  NOW - timedelta(hours=1), NOW - timedelta(minutes=5)))


def _section(html: str, element_id: str) -> str:
    """The markup of the ``<section id=...>``, to check what one part of the page says."""
    start = html.index(f'id="{element_id}"')
    return html[start: html.index("</section>", start)]


def _text(markup: str) -> str:
    """What a reader sees: tags dropped, whitespace collapsed (the template wraps its lines)."""
    return " ".join(re.sub(r"<[^>]+>", " ", markup).split())


def _tbody(html: str, table_id: str) -> str:
    start = html.index(f'id="{table_id}"')
    return html[html.index("<tbody>", start): html.index("</tbody>", start)]


def test_the_header_leads_with_what_needs_action_and_shows_the_excluded_apart() -> None:
    html = render_html(_report())
    assert "<h1>go1sync reconciliation</h1>" in html
    assert "Run <b>42</b>" in html and "2024-05-14 09:30 UTC" in html
    header = html[html.index('<header class="page">'):html.index("</header>")]
    assert _text(header[header.index('id="context"'):]).startswith(
        'id="context"> Profile production Platform https://app.360learning.com '
        "Go1 extracted 2024-05-14 08:30 UTC 360Learning read back 2024-05-14 09:25 UTC")
    # the headline is the needs-action total (amber: a few); the excluded are neutral, apart
    assert 'class="pill big warn" data-needs-action="3">3<' in header
    assert 'class="pill big neutral" data-excluded="57">57<' in header
    assert header.index("Needs action") < header.index("Excluded by design")


def test_the_summary_puts_needs_action_first_by_severity_and_excluded_apart() -> None:
    summary = _section(render_html(_report()), "summary")
    groups = re.findall(r'<tbody class="group (\w+)"', summary)
    assert groups == ["needs_action", "excluded"]
    lines = re.findall(r"<tr class=\"(none|some)[^\"]*\">(.*?)</tr>", summary, re.S)
    assert [(kind, _text(body)) for kind, body in lines] == [
        ("some", "Course missing in 360Learning 3 Push it again."),
        ("none", "Attempt missing in 360Learning none Requeue and push."),
        ("some", "Rejected by the mapping 57 See the reason."),
    ]
    assert 'class="pill ok">none<' in summary  # green
    assert 'class="pill warn">3<' in summary  # amber
    assert 'class="pill neutral">57<' in summary  # excluded: never red, however many
    assert "pill bad" not in summary
    assert _text(summary[summary.index('id="summary-excluded"'):]).startswith(
        'id="summary-excluded"> Excluded by design 57 not drift: go1sync leaves these out on '
        "purpose")
    assert 'href="#cat-1"' in summary and 'href="#cat-3"' in summary
    assert 'href="#cat-2"' not in summary  # no empty section
    html = render_html(_report())
    assert html.count('<section class="card category') == 2
    assert html.index('id="cat-1"') < html.index('<section class="card category excluded"')


def test_many_rows_needing_action_are_red() -> None:
    html = render_html(_report(course_missing=_rows(50)))
    assert 'class="pill big bad" data-needs-action="50">50<' in html


def test_a_clean_sync_reports_nothing_to_do() -> None:
    html = render_html(_report(course_missing=[], rejected=[]))
    assert "Nothing needs action: 360Learning shows what Go1 has and go1sync pushed." in html
    assert _section(html, "summary").count(">none<") == 5  # three categories, two kinds
    assert "chart bars" not in html and "card category" not in html


def test_only_excluded_rows_still_read_as_clean() -> None:
    html = render_html(_report(course_missing=[]))
    assert 'class="pill big ok" data-needs-action="0">none<' in html
    assert "Nothing needs action" in html and "What is excluded by design is listed apart." in html
    chart = _section(html, "by-category")
    assert ">Needs action: none</text>" in chart


def test_changes_since_the_previous_reconcile_are_marked() -> None:
    report = _report()
    course, attempt, rejected = (next(c for c in report.categories if c.key == k)
                                 for k in ("course_missing", "attempt_missing", "rejected"))
    report.previous_run_id = 13
    for i, row in enumerate(course.rows):
        row["new"] = i == 0
    course.previous, course.resolved, course.keyed = 4, 2, True
    attempt.previous, attempt.resolved, attempt.keyed = 6, 6, True
    rejected.previous, rejected.resolved, rejected.keyed = 0, 0, True
    for row in rejected.rows:
        row["new"] = True
    html = render_html(report)
    summary = _section(html, "summary")
    assert "<th scope=\"col\">Since run 13</th>" in summary
    changes = re.findall(r'<td class="change">(.*?)</td>', summary, re.S)
    assert [_text(c) for c in changes] == ["1 new, 2 resolved", "resolved (was 6)", "new"]
    assert "since run 13: 1 new, 8 resolved" in _text(summary)
    section = _section(html, "cat-1")
    assert '<th scope="col" data-col="0" aria-sort="none" class="mark">' in section
    body = _tbody(html, "rows-1")
    assert body.count('<span class="change new">new</span>') == 1
    assert body.count('class=" new"') + body.count('class="z new"') == 1


def test_data_is_escaped_everywhere() -> None:
    report = _report()
    report.categories[2].title = 'Course <b>missing</b> & "gone"'
    report.categories[2].cause_and_fix = "Use <i>push</i> & 'requeue'"
    report.categories[2].columns = [*COLUMNS, "<img src=x onerror=alert(2)>"]
    report.context = Context('<b>prof</b>', "https://x.example/<i>", None, None)
    html = render_html(report)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#34;a&#34; &amp; b" in html
    assert "<b>missing</b>" not in html
    assert "Course &lt;b&gt;missing&lt;/b&gt; &amp; &#34;gone&#34;" in html
    assert "<i>push</i>" not in html
    assert "Use &lt;i&gt;push&lt;/i&gt; &amp; &#39;requeue&#39;" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<b>prof</b>" not in html and "&lt;b&gt;prof&lt;/b&gt;" in html
    assert html.count("<script") == 1  # ours, at the end of the body
    script = html[html.index("<script>"):]
    assert "alert" not in script and "missing" not in script  # the JS carries no data


def test_the_page_loads_nothing_and_runs_only_its_own_code() -> None:
    report = _report()
    report.context = None  # the platform URL is the one address the page may show, as text
    html = render_html(report)
    external = r"""(?:src|href|action|xlink:href)\s*=\s*["']?\s*(?:[a-z]+:)?//"""
    assert not re.search(external, html, re.I)
    assert "http://" not in html and "https://" not in html
    assert "@import" not in html and "url(" not in html
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp is not None
    policy = csp.group(1).replace("&#39;", "'")
    assert "default-src 'none'" in policy
    # the inline style and script are allowed by their hashes: edited, they must still match
    _policy_allows(html, "style", "style-src")
    _policy_allows(html, "script", "script-src")


def _policy_allows(html: str, tag: str, directive: str) -> str:
    """The inline ``tag``'s text, checked against the page's CSP hash for ``directive``."""
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    body = re.search(rf"<{tag}>(.*?)</{tag}>", html, re.S)
    assert csp is not None and body is not None
    digest = base64.b64encode(hashlib.sha256(body.group(1).encode()).digest()).decode()
    assert f"{directive} 'sha256-{digest}'" in csp.group(1).replace("&#39;", "'")
    return body.group(1)


def test_the_inlined_style_and_script_are_the_template_files() -> None:
    html = render_html(_report())
    assert _policy_allows(html, "style", "style-src") == (TEMPLATES / "report.css").read_text(
        encoding="utf-8")
    assert _policy_allows(html, "script", "script-src") == (TEMPLATES / "report.js").read_text(
        encoding="utf-8")


@pytest.fixture
def templates_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The page's template files copied to ``tmp_path`` and read from there, to be edited."""
    shutil.copytree(TEMPLATES, tmp_path / "templates")
    monkeypatch.setattr(reconcile.html, "files", lambda package: tmp_path)
    reconcile.html.assets.cache_clear()
    yield tmp_path / "templates"
    reconcile.html.assets.cache_clear()  # the next page reads the real files again


def test_an_edited_script_file_is_still_allowed_by_the_policy(templates_copy: Path) -> None:
    script = templates_copy / "report.js"
    script.write_text(script.read_text(encoding="utf-8") + "var edited = 1;\n",
                      encoding="utf-8")
    style = templates_copy / "report.css"
    style.write_text(style.read_text(encoding="utf-8") + "p { margin: 0; }\n", encoding="utf-8")
    html = render_html(_report())
    assert _policy_allows(html, "script", "script-src").endswith("var edited = 1;\n")
    assert _policy_allows(html, "style", "style-src").endswith("p { margin: 0; }\n")


def test_a_script_file_that_would_close_its_element_is_refused(templates_copy: Path) -> None:
    script = templates_copy / "report.js"
    script.write_text('document.write("</SCRIPT><p>");\n', encoding="utf-8")
    with pytest.raises(ValueError, match="report.js contains '</script'"):
        render_html(_report())


def test_one_bar_per_category_with_rows_each_kind_scaled_apart() -> None:
    html = render_html(_report(course_missing=_rows(3), attempt_missing=_rows(1)))
    chart = _section(html, "by-category")
    assert "<svg" in chart and "<g class=\"bar\">" in chart
    headings = re.findall(r'<text class="heading"[^>]*>([^<]+)</text>', chart)
    assert headings == ["Needs action", "Excluded by design (not drift: go1sync leaves these "
                                        "out on purpose; scaled apart)"]
    assert re.findall(r'<rect [^>]*data-count="(\d+)"', chart) == ["3", "1", "57"]
    assert re.findall(r'<text class="count"[^>]*>([^<]+)</text>', chart) == ["3", "1", "57"]
    colours = re.findall(r'<rect class="(k\w+)"', chart)
    assert colours == ["k0", "k1", "kx"]  # distinct for drift, the one grey for the excluded
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', chart)]
    # each kind is scaled to its own largest count: 57 excluded rows flatten nothing
    assert widths[0] == widths[2] and widths[1] < widths[0]


def test_the_palette_is_distinct_and_keeps_grey_for_the_excluded() -> None:
    drift = [Category(f"c{i}", f"C{i}", "", severity=i) for i in range(PALETTE_SIZE)]
    colours = palette([*drift, Category("x", "X", "", kind=EXCLUDED, severity=99)], [])
    assert [colours[c.key] for c in drift] == [f"k{i}" for i in range(PALETTE_SIZE)]
    assert colours["x"] == "kx"
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    fills = {k: re.search(rf"\.{k} {{ fill: (#[0-9a-f]{{6}});", css) for k in
             [*colours.values()]}
    found = {k: m.group(1) for k, m in fills.items() if m}
    assert len(found) == PALETTE_SIZE + 1 and len(set(found.values())) == PALETTE_SIZE + 1


def test_the_history_chart_has_a_column_per_run_with_axis_labels() -> None:
    html = render_html(_report(history=4))
    chart = _section(html, "history")
    assert '<svg class="chart history"' in chart
    assert chart.count('<g class="run"') == 4
    for i in range(4):
        assert f">#{10 + i}</text>" in chart
    assert ">May 10</text>" in chart and ">May 13</text>" in chart
    assert "Course missing in 360Learning</li>" in chart  # the legend
    assert "Rejected by the mapping</li>" not in chart  # excluded: not stacked with the drift
    assert re.findall(r'<text class="total"[^>]*>([^<]+)</text>', chart) == ["3", "4", "5", "6"]
    assert "needing action, 1 excluded by design</title>" in chart
    assert "Not enough history yet" not in chart


@pytest.mark.parametrize("points", [0, 1])
def test_the_history_chart_waits_for_two_runs(points: int) -> None:
    chart = _section(render_html(_report(history=points)), "history")
    assert "<svg" not in chart
    assert "Not enough history yet: a chart over past runs needs" in chart
    assert f"and there {'is' if points == 1 else 'are'} {points}." in _text(chart)


def test_a_long_history_draws_the_latest_runs() -> None:
    chart = _section(render_html(_report(history=45)), "history")
    assert chart.count('<g class="run"') == HISTORY_RUNS
    assert f"The last {HISTORY_RUNS} of 45 runs." in _text(chart)
    assert ">#54</text>" in chart  # the latest run is always labelled


def test_many_rows_are_truncated_and_say_how_many_were_left_out() -> None:
    html = render_html(_report(rejected=_rows(MAX_ROWS + 345)))
    assert _tbody(html, "rows-3").count("<tr") == MAX_ROWS
    assert _tbody(html, "rows-1").count("<tr") == 3
    section = _section(html, "cat-3")
    assert "2,000 of 2,345 rows shown" in section
    assert 'data-left-out="345"' in section
    text = _text(section)
    assert "Showing the first 2,000 of 2,345 rows: 345 rows left out here" in text
    assert "The CSV and JSON exports have all of them." in text
    assert "left out" not in _section(html, "cat-1")


def test_tables_have_search_boxes_and_sortable_headers_the_script_uses() -> None:
    html = render_html(_report())
    for table_id in ("rows-1", "rows-3"):
        assert f'<input type="search" data-filter="{table_id}"' in html
        assert f'<output data-count-for="{table_id}">' in html
        assert f'<table class="rows" id="{table_id}" data-sortable>' in html
    headers = re.findall(r'<th scope="col" data-col="(\d+)" aria-sort="none"[^>]*>\s*'
                         r'<button type="button" class="sort"[^>]*>([^<]+)</button>', html)
    assert headers == [(str(i), c) for i, c in enumerate(HEADERS)] * 2
    script = html[html.index("<script>"):]
    for hook in ("table[data-sortable]", "th[data-col]", "button.sort", "aria-sort",
                 "input[data-filter]", "data-count-for", "toLowerCase", "Intl.Collator"):
        assert hook in script
    assert 'class="num"' in _section(html, "cat-1")  # go1_key is numeric: right-aligned


def test_cells_read_the_same_way_every_time() -> None:
    paris = timezone(timedelta(hours=2))
    assert format_cell(None) == ""
    assert format_cell(True) == "true"
    assert format_cell(datetime(2024, 5, 14, 11, 0, tzinfo=paris)) == "2024-05-14 09:00:00"
    assert format_cell(datetime(2024, 5, 14, 9, 0)) == "2024-05-14 09:00:00"
    assert format_cell(0.25) == "0.25" and format_cell(123456) == "123456"
    assert format_cell({"b": 1, "a": "é"}) == '{"a": "é", "b": 1}'


def test_rows_without_declared_columns_use_their_keys() -> None:
    report = _report()
    report.categories[2].columns = []
    html = render_html(report)
    assert re.findall(r'class="sort" title="Sort by ([^"]+)"', _section(html, "cat-1")) == HEADERS


def test_the_screenshot_script_says_when_chromium_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(screenshot_report.shutil, "which", lambda name: None)
    assert screenshot_report.main(["--png", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "chromium is not installed" in err
    assert not (tmp_path / "x.png").exists()


def test_the_sample_report_is_a_drifted_world_with_the_awkward_cases() -> None:
    report = screenshot_report.sample_report()
    html = render_html(report)
    assert any(c.count == 0 for c in report.categories) and len(report.history) == 4
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;Safety first&#34; &amp; ampersands" in html
    # as a real drifted sync: little drift, a lot excluded by design, of every excluded kind
    assert 0 < report.needs_action_total < report.excluded_total
    assert all(c.count for c in report.excluded)
    assert {c.change_class for c in (reconcile.html._summary(report)[0].lines)} >= {
        "new", "resolved"}
    assert {c.key for c in report.categories} == set(_seed_keys())  # the seed's, every one


def _seed_keys() -> list[str]:
    seed = ROOT / "models" / "seeds" / "reconcile_categories.csv"
    return [line.split(",")[0] for line in seed.read_text(encoding="utf-8").splitlines()[1:]]


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="chromium is not installed (apt-get install -y chromium)")
def test_the_screenshot_script_writes_a_png(tmp_path: Path) -> None:
    html, png = tmp_path / "sample.html", tmp_path / "shot" / "sample.png"
    done = subprocess.run(
        [sys.executable, str(SCRIPT),
         "--html", str(html), "--png", str(png), "--timeout", "90"],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
