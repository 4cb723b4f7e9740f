"""Configuration: one table of settings, read from a TOML file and overridden by the environment.

Every setting has a TOML key (``section.name``) and an environment variable; the environment
wins so that secrets can stay out of files. Settings are checked when a command needs them, so
``extract`` does not ask for 360Learning credentials. A missing or invalid value raises
:class:`SettingsError` naming the setting, which ``cli.py`` turns into one line and exit code 2.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import urllib3.exceptions
import urllib3.util

from go1sync.errors import UsageError

CONFIG_ENV = "GO1SYNC_CONFIG"
PROFILE_ENV = "GO1SYNC_PROFILE"


class SettingsError(UsageError):
    """A setting is missing or invalid; the message names it (exit 2)."""


class Secret:
    """A credential that must never be printed, logged or stored.

    ``str()`` and ``repr()`` hide the value, so a secret that slips into an f-string or a
    traceback shows as ``***``; only :meth:`reveal` gives it, at the point where it is sent.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "***"

    def __repr__(self) -> str:
        return "Secret('***')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Placeholder(str):
    """A model variable's stand-in for an unset setting (``Config.model_variables``), told
    apart by its type so the commands that show models can say which ones it touches."""

    env: str  # the setting's environment variable

    def __new__(cls, env: str) -> Placeholder:
        value = super().__new__(cls, f"<{env} unset>")
        value.env = env
        return value


class ValueHidden(ValueError):
    """A refusal whose message must not quote the value: it may hold a password."""


# A host as written in a URL: a DNS name or IPv4 address in ASCII, or an IPv6 literal.
_URL_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")


def _host_and_port(authority: str) -> tuple[str, str]:
    """The host and the port of an authority as written: ``[::1]:5`` -> ``[::1]``, ``5``."""
    if authority.startswith("["):
        host, _, after = authority.partition("]")
        return host + "]", after.removeprefix(":")
    host, _, port = authority.partition(":")
    return host, port


def parse_url(value: str) -> str:
    """An absolute https URL, or http on a loopback host (the sandbox); no trailing slash.

    Checked with the parser that sends the requests (urllib3's), and only in a form no other
    parser reads differently: ``http://evil.invalid\\@127.0.0.1`` is loopback to
    ``urllib.parse`` but evil.invalid to urllib3, so the loopback rule checked with one and
    the request sent with the other would let plain http leave the machine. Hence no user
    info, backslash, whitespace, control character, percent-encoding in the authority, query
    or fragment, and a host that is a plain ASCII name or an IP literal; both parsers must
    then agree on the host and the port.
    """
    text = str(value).strip()
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in text):
        raise ValueError("contains whitespace or a control character")
    if "\\" in text:
        raise ValueError("contains a backslash, which URL parsers read differently")
    try:
        url = urllib3.util.parse_url(text)
    except urllib3.exceptions.LocationParseError:
        raise ValueError("is not a URL that can be sent: check the host and the port") from None
    if url.scheme not in ("http", "https"):
        raise ValueError("expected an absolute http(s) URL")
    rest = text.partition("://")[2]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0] if rest else ""
    if url.auth is not None or "@" in authority:
        raise ValueHidden("has user info (user@ or :password@): a URL setting holds no "
                          "credentials")
    if "%" in authority:
        raise ValueError("has a percent-encoded host or port, which URL parsers read "
                         "differently")
    if url.query is not None or url.fragment is not None:
        raise ValueError("has a query or fragment (? or #), which a URL setting must not")
    if not url.host or not authority:
        raise ValueError("has no host: expected an absolute http(s) URL")
    host, port = _host_and_port(authority)
    if not _URL_HOST.fullmatch(host):
        raise ValueError(f"host {host!r} is not an ASCII DNS name or IP address (write an "
                         "international name in its xn-- form)")
    if port and not port.isdigit():
        raise ValueError(f"port {port!r} is not a number")
    split = urlsplit(text)
    if (split.hostname or "") != url.host.strip("[]").lower() or split.port != url.port:
        raise ValueError("is read as different hosts by two URL parsers")
    if url.port == 0:
        raise ValueError("has port 0")
    if url.scheme == "http" and not _is_loopback(url.host.strip("[]")):
        raise ValueError("plain http:// is accepted for loopback hosts only; use https://")
    return text.rstrip("/")


_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})")


def parse_times(text: str) -> tuple[time, ...]:
    """``"07:40"`` or ``"08:00,13:00,20:00"`` (24-hour Paris wall clock) -> sorted times.

    Anything else (``"7h40"``, ``"25:00"``, an empty item, a repeated time) is refused, so a
    typo in the configuration stops at once instead of never firing.
    """
    hint = "expected HH:MM on a 24-hour clock, separated by commas, e.g. 07:40 or 08:00,13:00"
    items = [item.strip() for item in str(text).split(",")]
    times: list[time] = []
    for item in items:
        match = _TIME.fullmatch(item)
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            shown = f"{item!r} in {text!r}" if len(items) > 1 else repr(item)
            raise ValueError(f"invalid time {shown}: {hint}")
        wall = time(int(match[1]), int(match[2]))
        if wall in times:
            raise ValueError(f"time {wall:%H:%M} is given twice in {text!r}")
        times.append(wall)
    return tuple(sorted(times))


def parse_positive_int(value: str) -> int:
    number = int(str(value).strip())
    if number < 1:
        raise ValueError("expected a whole number of at least 1")
    return number


def parse_non_negative_int(value: str) -> int:
    number = int(str(value).strip())
    if number < 0:
        raise ValueError("expected a whole number of at least 0")
    return number


def parse_path(value: str) -> str:
    """A file path, ``~`` expanded: a shell leaves a quoted or TOML ``~/x.duckdb`` as it is,
    DuckDB expands it anyway, so go1sync must too (else the lock file and the warehouse's
    folder would be made under a folder named ``~``, beside a warehouse in the home folder)."""
    text = str(value).strip()
    if not text:
        raise ValueError("expected a file path")
    expanded = os.path.expanduser(text)
    if expanded.startswith("~"):
        raise ValueError(f"expected a full path ({text.split('/')[0]} is no known home "
                         "folder)")
    return expanded


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8787`` for IPv6) -> ``(host, port)``; port 0 picks a free one."""
    text = str(value).strip()
    host, port = _host_and_port(text)
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError("expected HOST:PORT, e.g. 127.0.0.1:8787 (a port from 0 to 65535)")
    if not _URL_HOST.fullmatch(host) and not _is_ip(host):
        raise ValueError(f"host {host!r} is not an ASCII DNS name or IP address")
    return host, int(port)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def parse_seconds(value: str) -> float:
    number = float(str(value).strip())
    if not 0 < number <= 3600:
        raise ValueError("expected a number of seconds above 0 and at most 3600")
    return number


def parse_api_path(value: str) -> str:
    text = str(value).strip()
    if not text.startswith("/"):
        raise ValueError("expected a path that starts with /")
    return text.rstrip("/")


# An amount of memory as DuckDB reads it (KB = 1000 bytes, KiB = 1024) and as it shows one
# (current_setting('memory_limit') answers "244.1 MiB")
_MEMORY = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(bytes|B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*",
                     re.IGNORECASE)
_MEMORY_UNITS = {"bytes": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
                 "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_memory(value: str) -> str:
    text = str(value).strip()
    if not _MEMORY.fullmatch(text):
        raise ValueError("expected an amount such as 256MB or 2GB")
    return text


def memory_bytes(amount: str) -> int:
    """An amount of memory in bytes, read as DuckDB reads it, so what go1sync derives from the
    limit agrees with what DuckDB enforces. Raises ``ValueError`` for anything else."""
    match = _MEMORY.fullmatch(amount)
    if match is None:
        raise ValueError(f"not an amount of memory: {amount!r}")
    return int(float(match.group(1)) * _MEMORY_UNITS[match.group(2).lower()])


def parse_language(value: str) -> str:
    text = str(value).strip()
    if not re.fullmatch(r"[a-z]{2,3}(_[A-Za-z]{2,4})?", text):
        raise ValueError("expected a 360Learning defaultLang value such as en, fr or en_GB")
    return text


def parse_group_ids(value: str) -> tuple[str, ...]:
    ids = tuple(part.strip() for part in str(value).split(",") if part.strip())
    if not ids:
        raise ValueError("expected one or more group ids separated by commas")
    return ids


def parse_email(value: str) -> str:
    text = str(value).strip()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        raise ValueError("expected an email address")
    return text


def parse_text(value: str) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError("expected a non-empty value")
    return text


@dataclass(frozen=True)
class Setting:
    """One configurable value: where it is read from, how it is checked, its default."""

    key: str  # "section.name" in the TOML file
    env: str
    parse: Callable[[str], Any]
    default: str | None = None
    secret: bool = False
    help: str = ""
    optional: bool = False  # no default, and none needed: get() answers None when unset


SETTINGS: tuple[Setting, ...] = (
    Setting("go1.auth_url", "GO1_AUTH_URL", parse_url, "https://auth.go1.com/oauth/token",
            help="Go1 OAuth token endpoint"),
    Setting("go1.api_url", "GO1_API_URL", parse_url, "https://gateway.go1.com",
            help="Go1 API gateway"),
    Setting("go1.portal_url", "GO1_PORTAL_URL", parse_url,
            help="the Go1 portal's URL, from which launch links are built"),
    Setting("go1.client_id", "GO1_CLIENT_ID", parse_text, help="Go1 integration client_id"),
    Setting("go1.client_secret", "GO1_CLIENT_SECRET", parse_text, secret=True,
            help="Go1 integration secret"),
    Setting("go1.enrollments_path", "GO1_ENROLLMENTS_PATH", parse_api_path, optional=True,
            help="path of the enrollment list; unset: /enrollments, or the OpenAPI's "
                 "/report-data/enrolment/enrollments if the gateway answers 404 (remembered)"),
    Setting("go1.webhook_secret", "GO1_WEBHOOK_SECRET", parse_text, secret=True,
            optional=True, help="the shared secret Go1 signs webhook deliveries with; set, "
                                "`serve` also runs the webhook receiver"),
    Setting("go1.max_in_flight", "GO1SYNC_MAX_IN_FLIGHT", parse_positive_int, "4",
            help="Go1 requests in flight at once"),
    Setting("go1.enrollment_overlap_minutes", "GO1SYNC_ENROLLMENT_OVERLAP_MINUTES",
            parse_non_negative_int, "60",
            help="how far before the cursor each enrollment extract starts reading again"),
    Setting("l360.api_url", "L360_API_URL", parse_url, "https://app.360learning.com",
            help="360Learning API host (EU; https://app.us.360learning.com in the US)"),
    Setting("l360.client_id", "L360_CLIENT_ID", parse_text, help="360Learning API client id"),
    Setting("l360.client_secret", "L360_CLIENT_SECRET", parse_text, secret=True,
            help="360Learning API client secret"),
    Setting("l360.group_ids", "L360_GROUP_IDS", parse_group_ids,
            help="360Learning group ids, comma-separated: the first hosts the integration"),
    Setting("l360.admin_email", "L360_ADMIN_EMAIL", parse_email,
            help="the connector admin (a platform administrator or owner), the courses' author"),
    Setting("l360.platform_name", "L360_PLATFORM_NAME", parse_text, "Go1",
            help="the integration's externalPlatform name"),
    Setting("schedule.catalog_times", "GO1SYNC_CATALOG_TIMES", parse_times, "07:40",
            help="Paris wall-clock times of the catalog job (HH:MM, comma-separated)"),
    Setting("schedule.stats_times", "GO1SYNC_STATS_TIMES", parse_times, "08:00,13:00,20:00",
            help="Paris wall-clock times of the statistics job (HH:MM, comma-separated)"),
    Setting("models.fallback_language", "GO1SYNC_FALLBACK_LANGUAGE", parse_language, "en",
            help="the 360Learning defaultLang of content whose Go1 language is unknown"),
    Setting("warehouse.path", "GO1SYNC_WAREHOUSE", parse_path, "warehouse/go1sync.duckdb",
            help="the DuckDB file"),
    Setting("warehouse.memory_limit", "GO1SYNC_DUCKDB_MEMORY_LIMIT", parse_memory, "256MB",
            help="memory DuckDB may use before it spills to disk (one thread per 128 MB of "
                 "it, at most one per core)"),
    Setting("http.max_response_mib", "GO1SYNC_MAX_RESPONSE_MIB", parse_positive_int, "64",
            help="the largest response body either API may send, in MiB; a larger one fails"),
    Setting("http.max_retry_after_seconds", "GO1SYNC_MAX_RETRY_AFTER", parse_positive_int,
            "120", help="the longest Retry-After waited out; a longer one fails the request"),
    Setting("webhooks.listen", "GO1SYNC_WEBHOOK_LISTEN", parse_listen, "127.0.0.1:8787",
            help="where the webhook receiver listens (HOST:PORT), usually behind a proxy"),
    Setting("webhooks.public_url", "GO1SYNC_WEBHOOK_URL", parse_url, optional=True,
            help="the https:// address Go1 calls: the proxy in front of the receiver, ending "
                 "in /go1/webhooks"),
    Setting("webhooks.batch_seconds", "GO1SYNC_WEBHOOK_BATCH_SECONDS", parse_seconds, "5",
            help="how long the webhook worker gathers events before a micro-run"),
    Setting("l360.settle_seconds", "GO1SYNC_SETTLE_SECONDS", parse_positive_int, "120",
            help="how long a run waits on a bulk operation an earlier run left running"),
)

_BY_KEY = {s.key: s for s in SETTINGS}


def setting_env(key: str) -> str:
    """The environment variable of a setting, for a message that tells which one to change."""
    return _BY_KEY[key].env


def setting_default(key: str) -> str:
    """A setting's default as written in :data:`SETTINGS`, for code that runs without a
    :class:`Config` (a warehouse opened by a test or a benchmark)."""
    return str(_BY_KEY[key].default)


@dataclass(frozen=True)
class Go1Settings:
    """What the Go1 client needs; the secret stays wrapped until the token request."""

    auth_url: str
    api_url: str
    client_id: str
    client_secret: Secret
    enrollments_path: str | None  # GO1_ENROLLMENTS_PATH; None: found on the gateway
    max_in_flight: int
    enrollment_overlap_minutes: int


@dataclass(frozen=True)
class L360Settings:
    """What the 360Learning client and the integration setup need."""

    api_url: str
    client_id: str
    client_secret: Secret
    group_ids: tuple[str, ...]
    admin_email: str
    platform_name: str
    # l360.settle_seconds, defaulting to the setting's own default (for settings built in code)
    settle_seconds: float = float(_BY_KEY["l360.settle_seconds"].default or 0)


@dataclass(frozen=True)
class HttpLimits:
    """Bounds both API clients apply to every answer; the settings they come from are named
    here so that a message citing them cannot drift from :data:`SETTINGS`."""

    max_response_bytes: int
    max_retry_after: float  # seconds

    response_setting: ClassVar[str] = _BY_KEY["http.max_response_mib"].env
    retry_after_setting: ClassVar[str] = _BY_KEY["http.max_retry_after_seconds"].env


def inbox_beside(warehouse: Path) -> Path:
    """The webhook inbox of a warehouse: a folder beside it (not inside it: the receiver
    stores events while another process holds the warehouse)."""
    return warehouse.with_name(warehouse.name + ".inbox")


def _missing(setting: Setting) -> SettingsError:
    return SettingsError(f"missing setting {setting.env} ({setting.help}): set the environment "
                         f"variable or '{setting.key}' in the config file")


class Config:
    """The merged view of file and environment; values are parsed when asked for."""

    def __init__(self, file_values: Mapping[str, Any], env: Mapping[str, str],
                 source: str | None, profile: str | None = None,
                 scheduled: bool = True, profile_keys: frozenset[str] = frozenset()) -> None:
        self._file = file_values
        self._env = env
        self.source = source
        self.profile = profile
        self.scheduled = scheduled  # a test profile runs by hand only
        self._profile_keys = profile_keys  # the keys of file_values its profile table set

    def _raw(self, setting: Setting) -> tuple[str | None, str]:
        if setting.env in self._env and self._env[setting.env] != "":
            return self._env[setting.env], f"environment variable {setting.env}"
        if setting.key in self._file:
            where = (f"profiles.{self.profile}.{setting.key}"
                     if setting.key in self._profile_keys else setting.key)
            return str(self._file[setting.key]), f"'{where}' in {self.source}"
        if setting.key == "warehouse.path" and self.profile:
            # each profile keeps its own warehouse, state and ledger unless told otherwise
            return f"warehouse/go1sync-{self.profile}.duckdb", f"profile {self.profile}"
        return setting.default, "default"

    def origin(self, key: str) -> tuple[str | None, str]:
        """A setting's value as written (``None``: unset) and where it comes from: ``environment
        variable X``, ``'key' in FILE`` (``'profiles.NAME.key' in FILE`` from a profile's
        table), ``profile NAME`` (a profile's own warehouse) or ``default``; for ``config
        show``. A secret, or a value its check refuses to quote (a URL with a password), comes
        back as ``***``: the text never leaves this class."""
        setting = _BY_KEY[key]
        raw, source = self._raw(setting)
        if raw is not None and not setting.secret:
            try:
                setting.parse(raw)
            except ValueHidden:
                raw = "***"
            except ValueError:
                pass
        return ("***" if setting.secret and raw is not None else raw), source

    def get(self, key: str) -> Any:
        setting = _BY_KEY[key]
        raw, origin = self._raw(setting)
        if raw is None and setting.optional:
            return None
        if raw is None:
            raise _missing(setting)
        try:
            value = setting.parse(raw)
        except ValueError as exc:
            shown = "" if setting.secret or isinstance(exc, ValueHidden) else f" {raw!r}"
            raise SettingsError(
                f"invalid setting {setting.env} (from {origin}):{shown} {exc}"
            ) from None
        return Secret(value) if setting.secret else value

    def go1(self) -> Go1Settings:
        return Go1Settings(
            auth_url=self.get("go1.auth_url"),
            api_url=self.get("go1.api_url"),
            client_id=self.get("go1.client_id"),
            client_secret=self.get("go1.client_secret"),
            enrollments_path=self.get("go1.enrollments_path"),
            max_in_flight=self.get("go1.max_in_flight"),
            enrollment_overlap_minutes=self.get("go1.enrollment_overlap_minutes"),
        )

    def l360(self) -> L360Settings:
        return L360Settings(
            api_url=self.get("l360.api_url"),
            client_id=self.get("l360.client_id"),
            client_secret=self.get("l360.client_secret"),
            group_ids=self.get("l360.group_ids"),
            admin_email=self.get("l360.admin_email"),
            platform_name=self.get("l360.platform_name"),
            settle_seconds=self.settle_seconds(),
        )

    def http_limits(self) -> HttpLimits:
        return HttpLimits(max_response_bytes=self.get("http.max_response_mib") * 1024 * 1024,
                          max_retry_after=float(self.get("http.max_retry_after_seconds")))

    def settle_seconds(self) -> float:
        return float(self.get("l360.settle_seconds"))

    def warehouse_path(self) -> Path:
        return Path(self.get("warehouse.path"))

    def inbox_path(self) -> Path:
        return inbox_beside(self.warehouse_path())

    def webhook_secret(self) -> Secret | None:
        """``GO1_WEBHOOK_SECRET``, or None when unset (no receiver)."""
        value: Secret | None = self.get("go1.webhook_secret")
        return value

    def webhook_secret_required(self) -> Secret:
        secret = self.webhook_secret()
        if secret is None:
            raise _missing(_BY_KEY["go1.webhook_secret"])
        return secret

    def webhook_listen(self) -> tuple[str, int]:
        value: tuple[str, int] = self.get("webhooks.listen")
        return value

    def webhook_public_url(self) -> str:
        value: str | None = self.get("webhooks.public_url")
        if value is None:
            raise _missing(_BY_KEY["webhooks.public_url"])
        return value

    def webhook_batch_seconds(self) -> float:
        return float(self.get("webhooks.batch_seconds"))

    def model_variables(self, placeholders: bool = False) -> dict[str, str]:
        """What the SQL models read with var(): the mapping's settings. ``placeholders``: one
        that is unset reads as ``<GO1_PORTAL_URL unset>`` instead of stopping the command, for
        the commands that only show the models (``models list|show|lineage``); nothing is
        ever materialised with a placeholder (``transform`` and ``run`` pass none)."""
        keys = {"portal_url": "go1.portal_url", "fallback_language": "models.fallback_language"}
        return {name: Placeholder(_BY_KEY[key].env)
                if placeholders and self._raw(_BY_KEY[key])[0] is None else self.get(key)
                for name, key in keys.items()}

    def memory_limit(self) -> str:
        value: str = self.get("warehouse.memory_limit")
        return value

    def portal_url(self) -> str:
        value: str = self.get("go1.portal_url")
        return value


# The limits a client applies when its caller gives none: the settings' defaults, so the
# numbers have one owner (SETTINGS above).
DEFAULT_HTTP_LIMITS = Config({}, {}, None).http_limits()


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, key + "."))
        else:
            flat[key] = value
    return flat


def load_config(path: str | os.PathLike[str] | None = None,
                env: Mapping[str, str] | None = None, profile: str | None = None) -> Config:
    """Read the TOML file named by ``path`` or ``GO1SYNC_CONFIG`` (both optional).

    ``[profiles.NAME]`` tables (say ``test`` and ``production``) hold settings that replace
    the top-level ones when that profile is chosen (``--profile`` or ``GO1SYNC_PROFILE``);
    the environment still wins over both. ``scheduled = false`` marks a profile that runs by
    hand only, the default for one named ``test``.
    """
    env = os.environ if env is None else env
    profile = profile or env.get(PROFILE_ENV) or None
    chosen = str(path) if path else env.get(CONFIG_ENV) or None
    if not chosen:
        if profile:
            raise SettingsError(f"profile {profile!r} needs a config file that defines "
                                f"[profiles.{profile}] (--config or {CONFIG_ENV})")
        return Config({}, env, None)
    file = Path(chosen)
    if not file.is_file():
        raise SettingsError(f"config file {chosen} does not exist (from --config or {CONFIG_ENV})")
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"config file {chosen} is not valid TOML: {exc}") from None
    profiles = data.pop("profiles", {})
    if not isinstance(profiles, dict):
        raise SettingsError(f"config file {chosen}: 'profiles' must be a table of tables")
    flat = _flatten(data)
    scheduled = True
    profile_keys: frozenset[str] = frozenset()
    if profile:
        if profile not in profiles:
            names = ", ".join(sorted(profiles)) or "none"
            raise SettingsError(f"config file {chosen} has no profile {profile!r} "
                                f"(defined: {names})")
        chosen_table = dict(profiles[profile])
        scheduled = bool(chosen_table.pop("scheduled", profile != "test"))
        profile_keys = frozenset(_flatten(chosen_table))
        flat.update(_flatten(chosen_table))
    for name, table in profiles.items():
        extra = sorted(k for k in _flatten({k: v for k, v in dict(table).items()
                                            if k != "scheduled"}) if k not in _BY_KEY)
        if extra:
            raise SettingsError(f"config file {chosen}: unknown setting "
                                f"'profiles.{name}.{extra[0]}'")
    unknown = sorted(k for k in flat if k not in _BY_KEY)
    if unknown:
        raise SettingsError(f"config file {chosen}: unknown setting '{unknown[0]}'")
    return Config(flat, env, chosen, profile, scheduled, profile_keys)
