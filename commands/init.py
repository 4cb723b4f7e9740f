"""``python cli.py init [PATH]``: a commented ``go1sync.toml`` to start from.

Written from :data:`settings.SETTINGS`, the one table of settings, so the skeleton cannot drift
from what go1sync reads: every setting in its ``[section]``, its help, its environment variable
and its default, commented out, so the file changes nothing until a line is uncommented (and
every line, uncommented, is valid TOML). Secrets get no value line: they belong in the
environment, where the file's readers cannot see them.
"""

from __future__ import annotations

import json
import shlex
import textwrap
from pathlib import Path

from go1sync.errors import UsageError
from go1sync.settings import CONFIG_ENV, PROFILE_ENV, SETTINGS, Setting

WIDTH = 96


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent="# ", subsequent_indent="# ",
                         break_long_words=False, break_on_hyphens=False)


def _value(default: str) -> str:
    """A default as TOML: a whole number bare, anything else a quoted string (the settings
    read both, as text)."""
    return default if default.isdigit() else json.dumps(default)


def _entry(setting: Setting) -> list[str]:
    name = setting.key.split(".", 1)[1]
    lines = _comment(f"{setting.env}: {setting.help}")
    if setting.secret:
        lines.append(f"# {name}: a secret; set {setting.env} in the environment, not here")
    elif setting.default is not None:
        lines.append(f"# {name} = {_value(setting.default)}")
    elif setting.optional:
        lines.append(f'# {name} = ""  # unset by default')
    else:
        lines.append(f'# {name} = ""  # no default: set it')
    return lines


def skeleton(path: str = "go1sync.toml", program: str = "python cli.py") -> str:
    """The text of a fresh ``go1sync.toml``, to be written at ``path`` (which it names in the
    command that checks it, as ``program``, the way the user calls go1sync)."""
    lines = [
        *_comment(f"go1sync settings, written by `{program} init`. Every setting is here, "
                  "commented out at its default: uncomment and change the ones you need. The "
                  "environment variable named above each one wins over this file; secrets "
                  "belong in the environment (or a file only the service user reads), never "
                  "here."),
        *_comment(f"Use it with --config (or {CONFIG_ENV}), and verify it:"),
        f"#   {program} --config {shlex.quote(path)} check",
    ]
    sections: dict[str, list[Setting]] = {}
    for setting in SETTINGS:
        sections.setdefault(setting.key.split(".", 1)[0], []).append(setting)
    for section, settings in sections.items():
        lines += ["", f"[{section}]"]
        for setting in settings:
            lines += _entry(setting)
    lines += [
        "",
        *_comment(f"Profiles: a [profiles.NAME] table replaces the settings above when "
                  f"--profile NAME (or {PROFILE_ENV}) chooses it, and each profile has its own "
                  "warehouse (warehouse/go1sync-NAME.duckdb unless set). The test profile runs "
                  "by hand only: scheduled = true in its table changes that."),
        "# [profiles.test.l360]",
        '# api_url = "https://myacademy.360mocc.com:14532"',
        "# [profiles.production.l360]",
        '# api_url = "https://app.360learning.com"',
    ]
    return "\n".join(lines) + "\n"


def write_skeleton(path: Path, program: str = "python cli.py") -> int:
    """Write :func:`skeleton` to ``path`` (its folder made if need be); an existing file is
    never overwritten: it may hold settings someone wrote. Returns how many settings it holds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as file:
            file.write(skeleton(str(path), program))
    except FileExistsError:
        raise UsageError(f"{path} exists: not overwritten (remove it, or give init another "
                         "PATH)") from None
    return len(SETTINGS)
