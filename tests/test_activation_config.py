"""destinations.yml validation (pydantic models in activation/config.py): each kind of mistake is
one ConfigError naming the file, the destination (index and name) and the key, and saying what is
allowed; several mistakes are listed together. Builds nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from activation_data import write_config

from activation.config import FAMILIES, TYPE_IDENTIFIERS, TYPES, ConfigError, load_config

LISTS = {"name": "lists", "type": "files", "segments": {"families": ["lifecycle"]}}
WHERE = "destination 'lists' (destinations[0]): "


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    text = str(raised.value)
    assert text.startswith(f"{path}: ")
    return text[len(f"{path}: ") :]


def destination_error(tmp_path: Path, change: dict, drop: tuple[str, ...] = ()) -> str:
    config = {**LISTS, **change}
    for key in drop:
        config.pop(key)
    return error_of(write_config(tmp_path / "destinations.yml", [config]))


@pytest.mark.parametrize(
    ("change", "drop", "message"),
    [
        # a key missing
        ({}, ("name",), "`name` is required"),
        ({}, ("segments",), "`segments` is required"),
        ({}, ("type",), "`type` is required: one of 'files', 'ad_audience', 'postgres', 'http'"),
        ({"type": "postgres"}, (), "`options.dsn_env` is required for type postgres"),
        # a value outside its choices
        (
            {"type": "s3"},
            (),
            "`type`: 's3' is not one of 'files', 'ad_audience', 'postgres', 'http'",
        ),
        (
            {"mode": "sometimes"},
            (),
            "`mode`: 'sometimes' is not one of 'mirror', 'upsert' or 'add_only'",
        ),
        ({"consent": "sms"}, (), "`consent`: 'sms' is not one of 'email' or 'none'"),
        (
            {"segments": {"families": ["rfm", "persona2"]}},
            (),
            "`segments.families[1]`: 'persona2' is not one of 'rfm'",
        ),
        (
            {"identifier": "contact_id"},
            (),
            "a files destination takes identifier email, not 'contact_id'",
        ),
        (
            {"type": "ad_audience", "identifier": "email"},
            (),
            "an ad_audience destination takes identifier hashed_email, not 'email'",
        ),
        (
            {"type": "postgres", "identifier": "phone", "options": {"dsn_env": "X"}},
            (),
            "a postgres destination takes identifier email or hashed_email or contact_id, "
            "not 'phone'",
        ),
        # a value of the wrong type or range
        ({"batch_size": 0}, (), "`batch_size`: expected a positive integer, got 0"),
        ({"batch_size": True}, (), "`batch_size`: expected a positive integer, got True"),
        ({"batch_size": "500"}, (), "`batch_size`: expected a positive integer, got '500'"),
        ({"enabled": "yes"}, (), "`enabled`: expected true or false, got 'yes'"),
        (
            {"segments": {"names": ["Champions", ""]}},
            (),
            "`segments.names[1]`: expected a non-empty string, got ''",
        ),
        ({"segments": ["rfm"]}, (), "`segments`: expected a mapping, got ['rfm']"),
        ({"options": ["x"]}, (), "`options`: expected a mapping, got ['x']"),
        (
            {"type": "http", "options": {"base_url": "http://x", "max_attempts": 1.5}},
            (),
            "`options.max_attempts`: expected a positive integer, got 1.5",
        ),
        (
            {"type": "http", "options": {"base_url": "http://x", "backoff_max_s": -1}},
            (),
            "`options.backoff_max_s`: expected a positive number, got -1",
        ),
        (
            {"type": "postgres", "options": {"dsn_env": "X", "schema": "crm; drop"}},
            (),
            "`options.schema`: expected a plain name",
        ),
        # unknown keys, at each level
        (
            {"colour": "blue"},
            (),
            "unknown keys ['colour']; allowed: ['batch_size', 'consent', 'enabled', 'identifier', "
            "'mode', 'name', 'options', 'segments', 'type']",
        ),
        (
            {"segments": {"family": ["rfm"]}},
            (),
            "`segments`: unknown keys ['family']; allowed: ['families', 'names']",
        ),
        (
            {"options": {"bucket": "x"}},
            (),
            "unknown options ['bucket'] for type files; allowed: ['path']",
        ),
        # rules across keys
        (
            {"segments": {"families": []}},
            (),
            "`segments`: selects nothing (give `families` or `names`)",
        ),
        ({"consent": "none"}, (), "`consent: none` is only allowed with `identifier: contact_id`"),
        (
            {"type": "http", "options": {"auth_env": "KEY"}},
            (),
            "`options`: an http destination needs `base_url` or `base_url_env`",
        ),
    ],
)
def test_each_kind_of_mistake_names_the_destination_and_the_key(
    tmp_path: Path, change: dict, drop: tuple[str, ...], message: str
) -> None:
    where = "destinations[0]: " if "name" in drop else WHERE
    assert destination_error(tmp_path, change, drop).startswith(where + message)


def test_a_name_that_is_not_a_name_is_quoted_as_written(tmp_path: Path) -> None:
    message = destination_error(tmp_path, {"name": "Email-Lists"})
    assert message == (
        "destination 'Email-Lists' (destinations[0]): `name`: expected lower-case letters, "
        "digits and _, starting with a letter (at most 63), got 'Email-Lists'"
    )


def test_every_mistake_is_listed_with_its_destination(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "destinations.yml",
        [
            LISTS,
            {**LISTS, "name": "ads", "type": "ad_audience", "mode": "always", "batch_size": 0},
        ],
    )
    assert error_of(path) == (
        "2 mistakes:\n"
        "  - destination 'ads' (destinations[1]): `mode`: 'always' is not one of 'mirror', "
        "'upsert' or 'add_only'\n"
        "  - destination 'ads' (destinations[1]): `batch_size`: expected a positive integer, got 0"
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"version": 2, "destinations": []}, "`version` must be 1, got 2"),
        ({"destinations": []}, "`version` is required"),
        ({"version": 1}, "`destinations` is required"),
        ({"version": 1, "destinations": {"lists": LISTS}}, "`destinations`: expected a list"),
        (
            {"version": 1, "destinations": [], "sinks": []},
            "unknown top-level keys ['sinks']; allowed: ['destinations', 'version']",
        ),
        (
            {"version": 1, "destinations": ["lists"]},
            "destinations[0]: expected a mapping, got 'lists'",
        ),
        (
            {"version": 1, "destinations": [LISTS, {**LISTS, "type": "ad_audience"}]},
            "destinations[0] and destinations[1] are both named 'lists': names must be unique",
        ),
    ],
)
def test_mistakes_of_the_file_itself(tmp_path: Path, document: dict, message: str) -> None:
    path = tmp_path / "destinations.yml"
    path.write_text(yaml.safe_dump(document))
    assert error_of(path).startswith(message)


def test_a_file_that_is_not_a_mapping_or_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "destinations.yml"
    path.write_text("- lists\n")
    assert error_of(path) == "expected a mapping with `version` and `destinations`"
    path.write_text("version: [1\n")
    assert error_of(path).startswith("not valid YAML: ")
    assert "destinations file not found" in error_of(tmp_path / "missing.yml")


def test_defaults_and_the_options_the_file_gives(tmp_path: Path) -> None:
    """Defaults come from the models; `options` keeps only what the file gives (the adapters hold
    the options' defaults), integers stay integers, and a single family needs no list."""
    path = write_config(
        tmp_path / "destinations.yml",
        [
            {**LISTS, "segments": {"families": "lifecycle", "names": None}},
            {
                "name": "esp",
                "type": "http",
                "segments": {"names": ["Champions"]},
                "options": {"base_url": "http://x", "timeout_s": 30, "backoff_initial_s": 0.5},
            },
            {
                "name": "crm",
                "type": "postgres",
                "identifier": "contact_id",
                "consent": "none",
                "enabled": False,
                "segments": {"families": ["rfm"]},
                "options": {"dsn_env": "X", "schema": "crm"},
            },
        ],
    )
    lists, esp, crm = load_config(path).destinations
    assert (lists.identifier, lists.mode, lists.batch_size, lists.consent, lists.enabled) == (
        "email", "mirror", 1000, "email", True,
    )  # fmt: skip
    assert lists.families == ("lifecycle",) and lists.segment_names == () and lists.options == {}
    assert lists.base_dir == tmp_path
    assert esp.options == {"base_url": "http://x", "timeout_s": 30, "backoff_initial_s": 0.5}
    assert isinstance(esp.options["timeout_s"], int)
    assert (crm.identifier, crm.consent, crm.enabled) == ("contact_id", "none", False)
    assert crm.options == {"dsn_env": "X", "schema": "crm"}


def test_choices_are_the_models_own() -> None:
    assert TYPES == (
        "files", "ad_audience", "postgres", "http", "automation_events", "automation_lists",
    )  # fmt: skip
    assert TYPE_IDENTIFIERS["automation_events"] == ("contact_id",)
    assert TYPE_IDENTIFIERS["postgres"] == ("email", "hashed_email", "contact_id")
    assert TYPE_IDENTIFIERS["ad_audience"] == ("hashed_email",)
    assert FAMILIES[0] == "rfm" and "static" in FAMILIES
