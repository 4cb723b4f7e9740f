"""``python cli.py config show``: every effective setting, where it comes from, secrets masked.

The value and its source are :meth:`settings.Config.origin`'s, the same lookup every command
uses (environment, then the profile's table, then the file, then the profile's own warehouse,
then the default), so what is shown is what a run would read. Each value is also checked as a
run would check it, so a typo shows here with the message a run would stop on, beside the
others, instead of one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from go1sync.settings import SETTINGS, Config, SettingsError


@dataclass(frozen=True)
class Shown:
    key: str  # section.name in the TOML file
    env: str
    value: str | None  # as written; None: unset; "***": a secret (or a value hiding one)
    source: str  # "environment variable X", "'key' in FILE", "profile NAME" or "default"
    problem: str | None  # why a run would refuse it, in the run's own words; None: fine


def show_config(config: Config) -> list[Shown]:
    """Every setting of :data:`settings.SETTINGS`, in its order. A setting with no default
    that is unset is no problem here: only the commands that need it ask for it."""
    shown: list[Shown] = []
    for setting in SETTINGS:
        value, source = config.origin(setting.key)
        problem = None
        if value is not None:
            try:
                config.get(setting.key)
            except SettingsError as exc:
                problem = str(exc)
        shown.append(Shown(setting.key, setting.env, value, source, problem))
    return shown
