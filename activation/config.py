"""destinations.yml: which segments go where, how, and with which secrets (environment only).

The file is versioned (`version: 1`) and lists destinations. Its schema is the pydantic models
below (one per destination type, told apart by `type`; unknown keys are refused at every level).
Every mistake in the file raises one ConfigError that lists them all, each naming the file, the
destination (its index and name) and the key, and saying what is allowed. Secrets are never
written in the file: a destination names the environment variable that holds them, and a missing
variable is reported when that destination is synced (not when the file loads, so that the other
destinations still run).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

Family = Literal[
    # Every family of segment_membership (the accepted values of its segment_family in
    # models/marts/segments/_segments__models.yml; tests/test_custom_segments.py holds them
    # together).
    "rfm",
    "lifecycle",
    "focus",
    "engagement",
    "score_band",
    "persona",
    "funnel_stage",
    "within_radius",
    "churn_risk",
    "value_tier",
    "purchase_intent",
    "cluster",
    "microsegment",
    "custom",
    "static",
]
Identifier = Literal["email", "hashed_email", "contact_id"]
Mode = Literal["mirror", "upsert", "add_only"]
Consent = Literal["email", "none"]
# The channels of an automation step (automation_queue.channel).
Channel = Literal["email", "sms", "push"]

FAMILIES: tuple[str, ...] = get_args(Family)
IDENTIFIERS: tuple[str, ...] = get_args(Identifier)
MODES: tuple[str, ...] = get_args(Mode)
CONSENTS: tuple[str, ...] = get_args(Consent)
CHANNELS: tuple[str, ...] = get_args(Channel)
SUPPORTED_VERSIONS = (1,)
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
SQL_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"


class ConfigError(ValueError):
    """destinations.yml is wrong, or a destination's environment variable is missing."""


def _says(expected: str) -> WrapValidator:
    """Any failure of the wrapped type reads `expected <expected>, got <value>`."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError(
                "config_value",
                "expected {expected}, got {got}",
                {"expected": expected, "got": repr(value)},
            ) from None

    return WrapValidator(validate)


def _listed(value: Any) -> Any:
    """`families: rfm` is `families: [rfm]`; an empty key is an empty list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


PositiveInteger = Annotated[int, Field(strict=True, gt=0), _says("a positive integer")]
# An integer stays an integer (`timeout_s: 30`), a float stays a float.
PositiveNumber = Annotated[
    Annotated[int, Field(strict=True, gt=0)] | Annotated[float, Field(strict=True, gt=0)],
    _says("a positive number"),
]
Text = Annotated[str, Field(strict=True), _says("a string")]
NonEmptyText = Annotated[str, Field(strict=True, min_length=1), _says("a non-empty string")]
Switch = Annotated[bool, Field(strict=True), _says("true or false")]
Name = Annotated[
    str,
    StringConstraints(strict=True, pattern=NAME_PATTERN),
    _says("lower-case letters, digits and _, starting with a letter (at most 63)"),
]
SqlName = Annotated[
    str,
    StringConstraints(strict=True, pattern=SQL_IDENTIFIER),
    _says("a plain name (letters, digits and _, not starting with a digit)"),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Segments(_Strict):
    families: Annotated[tuple[Family, ...], BeforeValidator(_listed)] = ()
    names: Annotated[tuple[NonEmptyText, ...], BeforeValidator(_listed)] = ()

    @model_validator(mode="after")
    def _selects_something(self) -> Segments:
        if not self.families and not self.names:
            raise ValueError("selects nothing (give `families` or `names`)")
        return self


class FolderOptions(_Strict):
    path: Text | None = None


class PostgresOptions(_Strict):
    dsn_env: NonEmptyText
    schema_: SqlName | None = Field(default=None, alias="schema")
    table: SqlName | None = None
    connect_timeout_s: PositiveInteger | None = None


class _HttpConnection(_Strict):
    """How an API is reached: its URL, secret, time-outs and retries (http, automation_events)."""

    base_url: NonEmptyText | None = None
    base_url_env: NonEmptyText | None = None
    auth_env: NonEmptyText | None = None
    auth_header: NonEmptyText | None = None
    auth_scheme: Text | None = None
    timeout_s: PositiveNumber | None = None
    max_attempts: PositiveInteger | None = None
    backoff_initial_s: PositiveNumber | None = None
    backoff_max_s: PositiveNumber | None = None
    retry_after_max_s: PositiveNumber | None = None

    @model_validator(mode="after")
    def _has_a_base_url(self) -> _HttpConnection:
        if not (self.base_url or self.base_url_env):
            raise ValueError("an http destination needs `base_url` or `base_url_env`")
        return self


class HttpOptions(_HttpConnection):
    list_name: NonEmptyText | None = None
    add_path: NonEmptyText | None = None
    remove_path: NonEmptyText | None = None


class _AutomationSteps(_Strict):
    """Which issued automation steps a destination delivers (activation_automation_steps)."""

    channels: Annotated[tuple[Channel, ...], BeforeValidator(_listed)] = ("email",)
    scenarios: Annotated[tuple[NonEmptyText, ...], BeforeValidator(_listed)] = ()
    max_age_hours: PositiveNumber | None = None


class AutomationEventsOptions(_HttpConnection, _AutomationSteps):
    events_path: NonEmptyText | None = None


class AutomationListsOptions(_AutomationSteps):
    path: Text | None = None
    channels: Annotated[
        tuple[Annotated[Literal["email"], _says("email (a list holds addresses)")], ...],
        BeforeValidator(_listed),
    ] = ("email",)
    tags: Annotated[tuple[NonEmptyText, ...], BeforeValidator(_listed)] = ()


class _Destination(_Strict):
    name: Name
    enabled: Switch = True
    segments: Segments
    mode: Mode = "mirror"
    batch_size: PositiveInteger = 1000
    consent: Consent = "email"

    @model_validator(mode="after")
    def _consent_follows_the_identifier(self) -> _Destination:
        if self.consent == "none" and getattr(self, "identifier", None) != "contact_id":
            raise ValueError(
                "`consent: none` is only allowed with `identifier: contact_id`; a destination "
                "that receives email addresses (raw or hashed) always requires email consent"
            )
        return self


def _no_options(value: Any) -> Any:
    """An absent or empty `options:` is no options (and a type's required ones are missing)."""
    return {} if value is None else value


# A missing `options` is validated as `{}`, so a required option is reported by its own name.
NO_OPTIONS = Field(default_factory=dict, validate_default=True)


class FilesDestination(_Destination):
    type: Literal["files"]
    identifier: Literal["email"] = "email"
    options: Annotated[FolderOptions, BeforeValidator(_no_options)] = NO_OPTIONS


class AdAudienceDestination(_Destination):
    type: Literal["ad_audience"]
    identifier: Literal["hashed_email"] = "hashed_email"
    options: Annotated[FolderOptions, BeforeValidator(_no_options)] = NO_OPTIONS


class PostgresDestination(_Destination):
    type: Literal["postgres"]
    identifier: Identifier = "email"
    options: Annotated[PostgresOptions, BeforeValidator(_no_options)] = NO_OPTIONS


class HttpDestination(_Destination):
    type: Literal["http"]
    identifier: Literal["email"] = "email"
    options: Annotated[HttpOptions, BeforeValidator(_no_options)] = NO_OPTIONS


class _AutomationDestination(_Strict):
    """A destination of issued automation steps: no segments, no mode (a step is delivered once,
    never withdrawn), the consent of each step's channel (activation_automation_steps)."""

    name: Name
    enabled: Switch = True
    identifier: Literal["contact_id"] = "contact_id"


class AutomationEventsDestination(_AutomationDestination):
    type: Literal["automation_events"]
    options: Annotated[AutomationEventsOptions, BeforeValidator(_no_options)] = NO_OPTIONS


class AutomationListsDestination(_AutomationDestination):
    type: Literal["automation_lists"]
    options: Annotated[AutomationListsOptions, BeforeValidator(_no_options)] = NO_OPTIONS


DESTINATION_MODELS: dict[str, type[_Destination] | type[_AutomationDestination]] = {
    "files": FilesDestination,
    "ad_audience": AdAudienceDestination,
    "postgres": PostgresDestination,
    "http": HttpDestination,
    "automation_events": AutomationEventsDestination,
    "automation_lists": AutomationListsDestination,
}
# The destinations of automation steps (activation/automation.py), not of segments.
AUTOMATION_TYPES: tuple[str, ...] = ("automation_events", "automation_lists")
TYPES: tuple[str, ...] = tuple(DESTINATION_MODELS)
# The identifiers each destination type can carry (the first is its default).
TYPE_IDENTIFIERS: dict[str, tuple[str, ...]] = {
    kind: get_args(model.model_fields["identifier"].annotation)
    for kind, model in DESTINATION_MODELS.items()
}

AnyDestination = Annotated[
    FilesDestination
    | AdAudienceDestination
    | PostgresDestination
    | HttpDestination
    | AutomationEventsDestination
    | AutomationListsDestination,
    Field(discriminator="type"),
]


class DestinationsFile(_Strict):
    version: Literal[SUPPORTED_VERSIONS]  # type: ignore[valid-type]
    destinations: list[AnyDestination]

    @model_validator(mode="after")
    def _names_are_unique(self) -> DestinationsFile:
        first: dict[str, int] = {}
        for index, destination in enumerate(self.destinations):
            if destination.name in first:
                raise ValueError(
                    f"destinations[{first[destination.name]}] and destinations[{index}] are both "
                    f"named {destination.name!r}: names must be unique"
                )
            first[destination.name] = index
        return self


def _key(loc: tuple[Any, ...]) -> str:
    """`segments.families[1]`: a location within a destination (or the file), as written."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return f"`{text}`"


def _allowed(model: type[BaseModel]) -> list[str]:
    return sorted(info.alias or name for name, info in model.model_fields.items())


def _locate(loc: tuple[Any, ...], raw: dict[str, Any]) -> tuple[str, str | None, tuple[Any, ...]]:
    """(the destination, as `destination 'name' (destinations[i])`, or '' for the file itself;
    its type when known; the location within it)."""
    if len(loc) < 2 or loc[0] != "destinations" or not isinstance(loc[1], int):
        return "", None, loc
    index, rest = loc[1], loc[2:]
    items = raw.get("destinations")
    item = items[index] if isinstance(items, list) and index < len(items) else None
    name = item.get("name") if isinstance(item, dict) else None
    who = f"destinations[{index}]"
    if isinstance(name, str) and name:
        who = f"destination {name!r} ({who})"
    kind = rest[0] if rest and rest[0] in DESTINATION_MODELS else None
    return who, kind, rest[1:] if kind else rest


def _say(error: ErrorDetails, kind: str | None, loc: tuple[Any, ...]) -> str:
    """One error of pydantic, in the words of this file."""
    key, kind_of, got, ctx = _key(loc), error["type"], error.get("input"), error.get("ctx", {})
    prefix = f"{key}: " if loc else ""
    if kind_of == "missing":
        return f"{key} is required" + (f" for type {kind}" if kind and len(loc) > 1 else "")
    if kind_of == "literal_error" and loc and loc[-1] == "identifier" and kind:
        allowed = " or ".join(TYPE_IDENTIFIERS[kind])
        article = "an" if kind[0] in "aeiou" else "a"
        return f"{article} {kind} destination takes identifier {allowed}, not {got!r}"
    if kind_of == "literal_error" and "'" not in ctx["expected"] and "," not in ctx["expected"]:
        return f"{key} must be {ctx['expected']}, got {got!r}"  # a single choice (`version`)
    if kind_of == "literal_error":
        return f"{prefix}{got!r} is not one of {ctx['expected']}"
    if kind_of == "union_tag_invalid":
        return f"`type`: {ctx['tag']!r} is not one of {ctx['expected_tags']}"
    if kind_of == "union_tag_not_found":
        return f"`type` is required: one of {', '.join(map(repr, TYPES))}"
    if kind_of == "value_error":
        return f"{prefix}{ctx['error']}"
    if kind_of == "config_value":
        return f"{prefix}{error['msg']}"
    if kind_of in ("model_type", "model_attributes_type", "dict_type"):
        return f"{prefix}expected a mapping, got {got!r}"
    if kind_of in ("list_type", "tuple_type"):
        return f"{prefix}expected a list, got {got!r}"
    return f"{prefix}{error['msg']}, got {got!r}"


def _unknown_keys(keys: list[str], kind: str | None, loc: tuple[Any, ...], top: bool) -> str:
    """Keys no model of that place knows, with the ones it does."""
    listed = sorted(keys)
    if top:
        return f"unknown top-level keys {listed}; allowed: {_allowed(DestinationsFile)}"
    if kind is None:
        return f"unknown keys {listed}"
    model: type[BaseModel] = DESTINATION_MODELS[kind]
    if loc == ("options",):
        allowed = _allowed(model.model_fields["options"].annotation)  # type: ignore[arg-type]
        return f"unknown options {listed} for type {kind}; allowed: {allowed}"
    if loc == ("segments",):
        return f"`segments`: unknown keys {listed}; allowed: {_allowed(Segments)}"
    return f"unknown keys {listed}; allowed: {_allowed(model)}"


def explain(error: ValidationError, raw: dict[str, Any], path: Path) -> ConfigError:
    """Every mistake pydantic found, each naming the destination and the key, as one error.
    The unknown keys of one place are one line, where the first of them was found."""
    Place = tuple[str, str | None, tuple[Any, ...], bool]
    entries: list[str | Place] = []
    unknown: dict[Place, list[str]] = {}
    for detail in error.errors():
        who, kind, loc = _locate(tuple(detail["loc"]), raw)
        if detail["type"] == "extra_forbidden":
            place = (who, kind, loc[:-1], len(detail["loc"]) == 1)
            if place not in unknown:
                unknown[place] = []
                entries.append(place)
            unknown[place].append(str(loc[-1]))
        else:
            entries.append(f"{who}: {_say(detail, kind, loc)}" if who else _say(detail, kind, loc))
    lines = []
    for entry in entries:
        if isinstance(entry, str):
            lines.append(entry)
            continue
        who, kind, loc, top = entry
        text = _unknown_keys(unknown[entry], kind, loc, top)
        lines.append(f"{who}: {text}" if who else text)
    if len(lines) == 1:
        return ConfigError(f"{path}: {lines[0]}")
    listed = "".join(f"\n  - {line}" for line in lines)
    return ConfigError(f"{path}: {len(lines)} mistakes:{listed}")


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

    @classmethod
    def from_model(
        cls, model: _Destination | _AutomationDestination, base_dir: Path
    ) -> Destination:
        options: BaseModel = model.options  # type: ignore[attr-defined]
        segments = getattr(model, "segments", None)
        return cls(
            name=model.name,
            type=model.type,  # type: ignore[attr-defined]
            identifier=model.identifier,  # type: ignore[attr-defined]
            # An automation destination: each step once, never withdrawn; consent per channel.
            mode=getattr(model, "mode", "add_only"),
            batch_size=getattr(model, "batch_size", 1),
            consent=getattr(model, "consent", "email"),
            families=tuple(segments.families) if segments else (),
            segment_names=tuple(segments.names) if segments else (),
            # Only the options the file gives: the adapters hold the defaults (docs/operator.md).
            options=options.model_dump(by_alias=True, exclude_unset=True, exclude_none=True),
            enabled=model.enabled,
            base_dir=base_dir,
        )

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


def load_config(path: str | Path | None = None) -> ActivationConfig:
    path = Path(path).resolve() if path else default_config_path()
    if not path.exists():
        raise ConfigError(f"{path}: destinations file not found (see docs/operator.md, Activation)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with `version` and `destinations`")
    try:
        parsed = DestinationsFile.model_validate(raw)
    except ValidationError as error:
        raise explain(error, raw, path) from None
    destinations = tuple(Destination.from_model(d, path.parent) for d in parsed.destinations)
    return ActivationConfig(path=path, version=parsed.version, destinations=destinations)
