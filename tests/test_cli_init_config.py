"""`init` writes a commented go1sync.toml; `config show` tells each setting's value and source."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from go1sync.settings import SETTINGS, load_config
from tests.helpers import ROOT, clean_env, run_cli

SETTING_LINE = re.compile(r"# ([a-z_]+) = (.*)$")


def test_init_writes_every_setting_commented_out_with_its_help_and_default(
        tmp_path: Path) -> None:
    target = tmp_path / "conf" / "go1sync.toml"
    result = run_cli("init", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"wrote {target}: {len(SETTINGS)} settings, commented out at their "
                             f"defaults; next: python cli.py --config {target} check\n")
    text = target.read_text(encoding="utf-8")
    # valid TOML that changes nothing as written: every value is commented out
    assert tomllib.loads(text) == {section: {} for section in
                                   ("go1", "l360", "schedule", "models", "warehouse", "http",
                                    "webhooks")}
    config = load_config(target, env={})
    assert {config.origin(s.key)[1] for s in SETTINGS} == {"default"}
    lines = text.splitlines()
    assert lines[:6] == [
        "# go1sync settings, written by `python cli.py init`. Every setting is here, commented "
        "out at its",
        "# default: uncomment and change the ones you need. The environment variable named "
        "above each one",
        "# wins over this file; secrets belong in the environment (or a file only the service "
        "user",
        "# reads), never here.",
        "# Use it with --config (or GO1SYNC_CONFIG), and verify it:",
        f"#   python cli.py --config {target} check",
    ]
    assert lines[7:11] == ["[go1]", "# GO1_AUTH_URL: Go1 OAuth token endpoint",
                           '# auth_url = "https://auth.go1.com/oauth/token"',
                           "# GO1_API_URL: Go1 API gateway"]
    assert ("# GO1_CLIENT_SECRET: Go1 integration secret\n# client_secret: a secret; set "
            "GO1_CLIENT_SECRET in the environment, not here\n") in text
    assert '# portal_url = ""  # no default: set it\n' in text
    assert "# max_in_flight = 4\n" in text
    for setting in SETTINGS:
        section, name = setting.key.split(".", 1)
        assert f"# {setting.env}: " in text
        assert (f"# {name}: a secret; set {setting.env} in the environment" in text
                if setting.secret else f"\n# {name} = " in text[text.index(f"[{section}]"):])


def test_init_names_the_command_as_the_user_called_it(tmp_path: Path) -> None:
    """Installed, go1sync is ``go1sync``: the next step it suggests, and the file's own
    instructions, must be lines that user can paste."""
    target = tmp_path / "go1sync.toml"
    result = subprocess.run([sys.executable, "-m", "go1sync", "init", str(target)], cwd=ROOT,
                            env=clean_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(f"; next: go1sync --config {target} check\n")
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# go1sync settings, written by `go1sync init`.")
    assert f"#   go1sync --config {target} check\n" in text
    assert "python cli.py" not in text


def test_init_defaults_uncommented_are_the_settings_defaults(tmp_path: Path) -> None:
    target = tmp_path / "go1sync.toml"
    assert run_cli("init", str(target)).returncode == 0
    # uncomment the lines that hold a default (not the empty ones, nor the profile examples)
    body = target.read_text(encoding="utf-8").split("# Profiles:")[0]
    uncommented = "\n".join(
        line[2:] if (m := SETTING_LINE.match(line)) and not m[2].startswith('""') else line
        for line in body.splitlines())
    target.write_text(uncommented, encoding="utf-8")
    config = load_config(target, env={})
    with_default = [s for s in SETTINGS if s.default is not None and not s.secret]
    assert len(with_default) > 10
    for setting in with_default:
        assert config.origin(setting.key) == (setting.default, f"'{setting.key}' in {target}")
        assert config.get(setting.key) == setting.parse(str(setting.default))


def test_init_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "go1sync.toml"
    target.write_text("[go1]\nclient_id = 'mine'\n", encoding="utf-8")
    result = run_cli("init", str(target))
    assert (result.returncode, result.stdout, result.stderr) == (2, "", (
        f"Error: {target} exists: not overwritten (remove it, or give init another PATH)\n"))
    assert target.read_text(encoding="utf-8") == "[go1]\nclient_id = 'mine'\n"


def write_config(tmp_path: Path, extra: str = "") -> Path:
    file = tmp_path / "c.toml"
    file.write_text('[go1]\nclient_id = "file-id"\nclient_secret = "file-secret"\n'
                    '[l360]\nplatform_name = "Top"\n'
                    '[profiles.prod.l360]\ngroup_ids = "g1,g2"\n' + extra, encoding="utf-8")
    return file


def test_config_show_names_each_settings_source_and_masks_secrets(tmp_path: Path) -> None:
    file = write_config(tmp_path)
    result = run_cli("--config", str(file), "--profile", "prod", "config", "show",
                     env={"L360_CLIENT_SECRET": "env-secret", "GO1SYNC_MAX_IN_FLIGHT": "8"})
    assert result.returncode == 0, result.stderr
    assert "file-secret" not in result.stdout and "env-secret" not in result.stdout
    rows = {line.split()[0]: " ".join(line.split()[1:]) for line in result.stdout.splitlines()}
    assert result.stdout.splitlines()[0] == f"config file: {file}, profile prod"
    assert result.stdout.splitlines()[1].split() == ["setting", "value", "source"]
    assert rows["go1.client_id"] == f"file-id 'go1.client_id' in {file}"
    assert rows["go1.client_secret"] == f"*** 'go1.client_secret' in {file}"
    assert rows["l360.client_secret"] == "*** environment variable L360_CLIENT_SECRET"
    assert rows["l360.group_ids"] == f"g1,g2 'profiles.prod.l360.group_ids' in {file}"
    assert rows["go1.max_in_flight"] == "8 environment variable GO1SYNC_MAX_IN_FLIGHT"
    assert rows["warehouse.path"] == "warehouse/go1sync-prod.duckdb profile prod"
    assert rows["go1.auth_url"] == "https://auth.go1.com/oauth/token default"
    assert rows["go1.portal_url"] == "(unset) default"
    assert len(result.stdout.splitlines()) == 2 + len(SETTINGS)


def test_config_show_lists_every_invalid_setting_then_exits_2(tmp_path: Path) -> None:
    file = write_config(tmp_path, '[profiles.prod.go1]\napi_url = "https://u:pw@gw.example"\n')
    result = run_cli("--config", str(file), "--profile", "prod", "config", "show",
                     env={"GO1SYNC_MAX_IN_FLIGHT": "0"})
    assert result.returncode == 2
    assert "pw@" not in result.stdout + result.stderr  # a URL hiding a password is masked
    lines = result.stdout.splitlines()
    assert f"go1.api_url *** 'profiles.prod.go1.api_url' in {file}" in [
        " ".join(line.split()) for line in lines]
    assert lines[-2:] == [
        f"invalid setting GO1_API_URL (from 'profiles.prod.go1.api_url' in {file}): has user "
        "info (user@ or :password@): a URL setting holds no credentials",
        "invalid setting GO1SYNC_MAX_IN_FLIGHT (from environment variable "
        "GO1SYNC_MAX_IN_FLIGHT): '0' expected a whole number of at least 1",
    ]
    assert result.stderr == "Error: 2 setting(s) invalid: GO1_API_URL, GO1SYNC_MAX_IN_FLIGHT\n"


def test_config_show_without_a_file_shows_the_defaults() -> None:
    result = run_cli("config", "show")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "config file: none (--config or GO1SYNC_CONFIG)"
    assert [" ".join(line.split()) for line in lines[2:4]] == [
        "go1.auth_url https://auth.go1.com/oauth/token default",
        "go1.api_url https://gateway.go1.com default"]
