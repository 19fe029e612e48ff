"""destinations.yml: which segments go where, how, and with which secrets (environment only).

The file is versioned (`version: 1`) and lists destinations. Every key is checked when the file
is loaded; a mistake raises ConfigError naming the file, the destination and the key. Secrets
are never written in the file: a destination names the environment variable that holds them,
and a missing variable is reported when that destination is synced (not when the file loads,
so that the other destinations still run).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SUPPORTED_VERSIONS = (1,)
TYPES = ("files", "ad_audience", "postgres", "http")
IDENTIFIERS = ("email", "hashed_email", "contact_id")
MODES = ("mirror", "upsert", "add_only")
CONSENTS = ("email", "none")
FAMILIES = ("rfm", "lifecycle", "focus")
# The identifiers each destination type can carry.
TYPE_IDENTIFIERS = {
    "files": ("email",),
    "ad_audience": ("hashed_email",),
    "postgres": IDENTIFIERS,
    "http": ("email",),
}
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
SQL_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

_COMMON_KEYS = {
    "name",
    "type",
    "enabled",
    "segments",
    "identifier",
    "mode",
    "batch_size",
    "consent",
    "options",
}
_OPTION_KEYS = {
    "files": {"path"},
    "ad_audience": {"path"},
    "postgres": {"dsn_env", "schema", "table", "connect_timeout_s"},
    "http": {
        "base_url",
        "base_url_env",
        "auth_env",
        "auth_header",
        "auth_scheme",
        "list_name",
        "add_path",
        "remove_path",
        "timeout_s",
        "max_attempts",
        "backoff_initial_s",
        "backoff_max_s",
        "retry_after_max_s",
    },
}
_NUMBER_OPTIONS = {
    "postgres": ("connect_timeout_s",),
    "http": (
        "timeout_s",
        "max_attempts",
        "backoff_initial_s",
        "backoff_max_s",
        "retry_after_max_s",
    ),
}
_INTEGER_OPTIONS = {"connect_timeout_s", "max_attempts"}
_REQUIRED_OPTIONS = {"files": set(), "ad_audience": set(), "postgres": {"dsn_env"}, "http": set()}


class ConfigError(ValueError):
    """destinations.yml is wrong, or a destination's environment variable is missing."""


@dataclass(frozen=True)
class Destination:
    name: str
    type: str
    identifier: str
    mode: str
    batch_size: int
    consent: str
    families: tuple[str, ...]
    segment_names: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    base_dir: Path = Path(".")

    def env(self, option: str, purpose: str) -> str:
        """The value of the environment variable named by option `option` (a secret)."""
        variable = self.options.get(option)
        if not variable:
            raise ConfigError(f"destination {self.name!r}: option {option!r} is required")
        value = os.environ.get(variable)
        if not value:
            raise ConfigError(
                f"destination {self.name!r} needs the environment variable {variable} "
                f"({purpose}); set it, or set `enabled: false` for this destination"
            )
        return value

    def path_option(self, default: str) -> Path:
        path = Path(str(self.options.get("path", default))).expanduser()
        return path if path.is_absolute() else self.base_dir / path


@dataclass(frozen=True)
class ActivationConfig:
    path: Path
    version: int
    destinations: tuple[Destination, ...]

    def select(self, names: list[str] | None = None) -> list[Destination]:
        """The named destinations (enabled or not), or every enabled one."""
        if not names:
            return [d for d in self.destinations if d.enabled]
        known = {d.name: d for d in self.destinations}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ConfigError(
                f"{self.path}: no destination named {', '.join(map(repr, unknown))}; "
                f"configured: {', '.join(known) or 'none'}"
            )
        return [known[n] for n in names]


def default_config_path() -> Path:
    """SEGMENT_DESTINATIONS_FILE, else destinations.yml at the repository root."""
    value = os.environ.get("SEGMENT_DESTINATIONS_FILE")
    if value:
        return Path(value).expanduser().resolve()
    return Path(__file__).resolve().parent.parent / "destinations.yml"


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: expected a list of non-empty strings, got {value!r}")
    return tuple(value)


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}: expected a positive integer, got {value!r}")
    return value


def _choice(value: Any, choices: tuple[str, ...], where: str) -> str:
    if value not in choices:
        raise ConfigError(f"{where}: {value!r} is not one of {', '.join(choices)}")
    return value


def parse_destination(raw: Any, index: int, path: Path) -> Destination:
    where = f"{path}: destinations[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping, got {raw!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ConfigError(
            f"{where}: `name` must be lower-case letters, digits and _ (starting with a letter), "
            f"got {name!r}"
        )
    where = f"{path}: destination {name!r}"
    unknown = set(raw) - _COMMON_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_COMMON_KEYS)}"
        )
    kind = _choice(raw.get("type"), TYPES, f"{where}: `type`")
    identifier = _choice(
        raw.get("identifier", TYPE_IDENTIFIERS[kind][0]), IDENTIFIERS, f"{where}: `identifier`"
    )
    if identifier not in TYPE_IDENTIFIERS[kind]:
        raise ConfigError(
            f"{where}: a {kind} destination takes identifier "
            f"{' or '.join(TYPE_IDENTIFIERS[kind])}, not {identifier!r}"
        )
    mode = _choice(raw.get("mode", "mirror"), MODES, f"{where}: `mode`")
    batch_size = _positive_int(raw.get("batch_size", 1000), f"{where}: `batch_size`")
    consent = _choice(raw.get("consent", "email"), CONSENTS, f"{where}: `consent`")
    if consent == "none" and identifier != "contact_id":
        raise ConfigError(
            f"{where}: `consent: none` is only allowed with `identifier: contact_id`; a "
            "destination that receives email addresses (raw or hashed) always requires email "
            "consent"
        )
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}: `enabled` must be true or false, got {enabled!r}")
    segments = raw.get("segments")
    if not isinstance(segments, dict) or not (set(segments) <= {"families", "names"}):
        raise ConfigError(
            f"{where}: `segments` must be a mapping with `families` and/or `names`, "
            f"got {segments!r}"
        )
    families = _strings(segments.get("families"), f"{where}: `segments.families`")
    for family in families:
        _choice(family, FAMILIES, f"{where}: `segments.families`")
    names = _strings(segments.get("names"), f"{where}: `segments.names`")
    if not families and not names:
        raise ConfigError(f"{where}: `segments` selects nothing (give families or names)")
    options = raw.get("options") or {}
    if not isinstance(options, dict):
        raise ConfigError(f"{where}: `options` must be a mapping, got {options!r}")
    unknown = set(options) - _OPTION_KEYS[kind]
    if unknown:
        raise ConfigError(
            f"{where}: unknown options {sorted(unknown)} for type {kind}; "
            f"allowed: {sorted(_OPTION_KEYS[kind])}"
        )
    missing = _REQUIRED_OPTIONS[kind] - set(options)
    if missing:
        raise ConfigError(f"{where}: missing options {sorted(missing)} for type {kind}")
    if kind == "http" and not (options.get("base_url") or options.get("base_url_env")):
        raise ConfigError(f"{where}: an http destination needs `base_url` or `base_url_env`")
    for key in _NUMBER_OPTIONS.get(kind, ()):
        value = options.get(key)
        if value is None:
            continue
        if key in _INTEGER_OPTIONS:
            _positive_int(value, f"{where}: options.{key}")
        elif isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"{where}: options.{key}: expected a positive number, got {value!r}")
    if kind == "postgres":
        for key in ("schema", "table"):
            if key in options and not SQL_IDENTIFIER.match(str(options[key])):
                raise ConfigError(f"{where}: options.{key} {options[key]!r} is not a plain name")
    return Destination(
        name=name,
        type=kind,
        identifier=identifier,
        mode=mode,
        batch_size=batch_size,
        consent=consent,
        families=families,
        segment_names=names,
        options=dict(options),
        enabled=enabled,
        base_dir=path.parent,
    )


def load_config(path: str | Path | None = None) -> ActivationConfig:
    path = Path(path).resolve() if path else default_config_path()
    if not path.exists():
        raise ConfigError(f"{path}: destinations file not found (see README, Activation)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with `version` and `destinations`")
    version = raw.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise ConfigError(f"{path}: `version` must be one of {SUPPORTED_VERSIONS}, got {version!r}")
    unknown = set(raw) - {"version", "destinations"}
    if unknown:
        raise ConfigError(f"{path}: unknown top-level keys {sorted(unknown)}")
    items = raw.get("destinations")
    if not isinstance(items, list):
        raise ConfigError(f"{path}: `destinations` must be a list")
    destinations = tuple(parse_destination(item, i, path) for i, item in enumerate(items))
    seen: set[str] = set()
    for destination in destinations:
        if destination.name in seen:
            raise ConfigError(f"{path}: destination name {destination.name!r} appears twice")
        seen.add(destination.name)
    return ActivationConfig(path=path, version=version, destinations=destinations)
