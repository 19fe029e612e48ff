"""Files and ad-audience destinations, consent in every mode, add-only and upsert modes, and
destinations.yml validation (synthetic membership tables; no server needed)."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from activation_data import (
    Contact,
    change_contacts,
    expected_members,
    ledger,
    make_contacts,
    sha256_email,
    write_config,
    write_membership,
)

from activation.config import ConfigError, load_config
from activation.destinations.files import segment_file_name
from activation.sync import sync_all, sync_destination


def files_destination(tmp_path: Path, **overrides):
    config = {
        "name": "lists",
        "type": "files",
        "segments": {"families": ["lifecycle", "focus"]},
        "options": {"path": "out/lists"},
    }
    config.update(overrides)
    return load_config(write_config(tmp_path / "destinations.yml", [config])).destinations[0]


def read_csvs(folder: Path) -> dict[str, list[dict[str, str]]]:
    out = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="") as handle:
            out[path.name] = list(csv.DictReader(handle))
    return out


def expected_csvs(contacts: list[Contact], segment_keys) -> dict[str, list[dict[str, str]]]:
    members = expected_members(contacts)
    return {
        segment_file_name(key): sorted(
            (
                {
                    "email": email,
                    "first_name": contact.first_name,
                    "last_name": contact.last_name,
                    "tags": key,
                }
                for email, contact in members.get(key, {}).items()
            ),
            key=lambda row: row["email"],
        )
        for key in segment_keys
    }


def test_files_hold_the_current_membership_csv_and_parquet(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    day1 = make_contacts(400, seed=21, invalid_every=13)
    write_membership(db, day1)
    target = files_destination(tmp_path)
    out = tmp_path / "out" / "lists"
    sync_destination(db, target)
    keys1 = set(expected_members(day1))
    assert read_csvs(out) == expected_csvs(day1, keys1)
    day2 = change_contacts(day1, seed=22, fraction=0.3)
    write_membership(db, day2)
    result = sync_destination(db, target)
    # a segment that emptied keeps a header-only file; every other file is the new membership
    assert read_csvs(out) == expected_csvs(day2, keys1 | set(expected_members(day2)))
    parquet = pq.read_table(out / "membership.parquet").to_pylist()
    assert {(row["segment_key"], row["email"]) for row in parquet} == {
        (key, email) for key, emails in expected_members(day2).items() for email in emails
    }
    changes = pq.read_table(out / "changes.parquet").to_pylist()
    assert len(changes) == result.sent
    assert {row["action"] for row in changes} <= {"enter", "update", "exit"}
    assert not list(out.glob(".*tmp"))
    # the names with quotes and commas survive the CSV round trip
    last_names = {row["last_name"] for rows in read_csvs(out).values() for row in rows}
    assert {"Dupont, Jr.", "O'Brien", "Müller"} <= last_names


def test_ad_audience_holds_only_hashes(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    contacts = make_contacts(300, seed=23, invalid_every=11)
    # Upper case and spaces around an address: hashed after trim + lower.
    contacts[0] = Contact(**{**contacts[0].__dict__, "email": "  Mixed.Case@Example.COM "})
    contacts[0] = Contact(**{**contacts[0].__dict__, "email_consent": True, "unsubscribed": False})
    write_membership(db, contacts)
    target = load_config(
        write_config(
            tmp_path / "destinations.yml",
            [
                {
                    "name": "ads",
                    "type": "ad_audience",
                    "segments": {"families": ["lifecycle"]},
                    "options": {"path": "out/ads"},
                }
            ],
        )
    ).destinations[0]
    sync_destination(db, target)
    out = tmp_path / "out" / "ads"
    blobs = b"".join(path.read_bytes() for path in out.iterdir())
    for contact in contacts:
        if contact.email:
            assert contact.email.strip().lower().encode() not in blobs
            assert contact.first_name.encode() not in blobs
    # decoded, no value anywhere looks like an email (compressed Parquet bytes may hold '@')
    texts = [path.read_text() for path in out.glob("*.csv")]
    texts += [str(pq.read_table(path).to_pylist()) for path in out.glob("*.parquet")]
    assert texts and not any("@" in text for text in texts)
    hashes = {
        row["email_sha256"]: path.name
        for path in out.glob("*.csv")
        for row in csv.DictReader(path.open())
    }
    expected = {
        sha256_email(email): segment_file_name(key)
        for key, emails in expected_members(contacts, families=["lifecycle"]).items()
        for email in emails
    }
    assert hashes == expected
    assert sha256_email("mixed.case@example.com") in hashes
    # no raw email in the warehouse state or ledger of this destination either
    state = ledger(db)
    assert not any("@" in str(value) for row in state["destination_state"] for value in row)
    assert not any("@" in str(value) for row in state["sync_row_results"] for value in row)


@pytest.mark.parametrize("mode", ["mirror", "upsert", "add_only"])
def test_consent_lost_means_exit_in_every_mode(tmp_path: Path, mode: str) -> None:
    db = tmp_path / "warehouse.duckdb"
    day1 = make_contacts(300, seed=24)
    write_membership(db, day1)
    target = files_destination(tmp_path, mode=mode)
    sync_destination(db, target)
    revoked = [c for c in day1 if c.reachable][:20]
    moved = [c for c in day1 if c.reachable][20:40]
    ids = {c.contact_id for c in revoked}
    moved_ids = {c.contact_id for c in moved}
    day2 = []
    for contact in day1:
        if contact.contact_id in ids:
            contact = Contact(**{**contact.__dict__, "unsubscribed": True})
        if contact.contact_id in moved_ids:
            stage = "lapsed" if contact.lifecycle != "lapsed" else "new"
            contact = Contact(**{**contact.__dict__, "lifecycle": stage, "first_name": "X"})
        day2.append(contact)
    write_membership(db, day2)
    result = sync_destination(db, target)
    held = {row["email"] for rows in read_csvs(tmp_path / "out" / "lists").values() for row in rows}
    assert not held & {c.email for c in revoked}, "an unsubscribed contact is still held"
    consent_exits = sum(len(c.memberships()) for c in revoked)
    moved_exits = len(moved)  # one lifecycle exit each
    if mode == "mirror":
        assert result.exited == consent_exits + moved_exits
    else:
        assert result.exited == consent_exits  # only consent makes a contact leave
    # the renamed contacts that stayed in a segment are updated except in add_only mode
    renamed_kept = sum(1 for c in moved if c.focus)
    assert result.updated == (0 if mode == "add_only" else renamed_kept)
    assert result.entered == len(moved)


def test_sync_all_one_failing_destination_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "warehouse.duckdb"
    write_membership(db, make_contacts(100, seed=25))
    monkeypatch.delenv("ACTIVATION_MISSING_DSN", raising=False)
    config = load_config(
        write_config(
            tmp_path / "destinations.yml",
            [
                {
                    "name": "broken",
                    "type": "postgres",
                    "segments": {"families": ["rfm"]},
                    "options": {"dsn_env": "ACTIVATION_MISSING_DSN"},
                },
                {"name": "lists", "type": "files", "segments": {"families": ["lifecycle"]}},
            ],
        )
    )
    results, errors = sync_all(db, config)
    assert [r.destination for r in results] == ["lists"] and results[0].sent > 0
    assert "ACTIVATION_MISSING_DSN" in errors["broken"] and "'broken'" in errors["broken"]
    with duckdb.connect(str(db), read_only=True) as con:
        runs = con.execute("select destination from activation.sync_runs").fetchall()
    assert runs == [("lists",)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "s3"}, "'s3' is not one of"),
        ({"identifier": "contact_id"}, "a files destination takes identifier email"),
        ({"mode": "sometimes"}, "`mode`: 'sometimes'"),
        ({"batch_size": 0}, "`batch_size`: expected a positive integer"),
        ({"consent": "none"}, "`consent: none` is only allowed with `identifier: contact_id`"),
        ({"segments": {"families": ["persona2"]}}, "'persona2' is not one of"),
        ({"segments": {}}, "selects nothing"),
        ({"colour": "blue"}, "unknown keys ['colour']"),
        ({"options": {"bucket": "x"}}, "unknown options ['bucket'] for type files"),
        (
            {"type": "http", "options": {"base_url": "http://x", "max_attempts": 0}},
            "`options.max_attempts`: expected a positive integer, got 0",
        ),
        (
            {"type": "http", "options": {"base_url": "http://x", "timeout_s": "30s"}},
            "`options.timeout_s`: expected a positive number, got '30s'",
        ),
        (
            {
                "type": "postgres",
                "identifier": "contact_id",
                "options": {"dsn_env": "X", "connect_timeout_s": 2.5},
            },
            "`options.connect_timeout_s`: expected a positive integer",
        ),  # fmt: skip
    ],
)
def test_config_errors_name_the_file_destination_and_key(
    tmp_path: Path, change: dict, message: str
) -> None:
    config = {"name": "lists", "type": "files", "segments": {"families": ["lifecycle"]}}
    config.update(change)
    path = write_config(tmp_path / "destinations.yml", [config])
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(path) in str(raised.value) and message in str(raised.value)


def test_repository_destinations_file_loads() -> None:
    config = load_config(Path(__file__).resolve().parents[1] / "destinations.yml")
    enabled = {d.type for d in config.destinations if d.enabled}
    assert enabled == {"files", "ad_audience"}
    assert {d.type for d in config.destinations} == {
        "files",
        "ad_audience",
        "postgres",
        "http",
        "automation_events",
        "automation_lists",
    }
    # Each of them receives email addresses or names: the sample sends no consent-less contact.
    assert {d.consent for d in config.destinations} == {"email"}


def test_command_line_sync_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from activation.__main__ import main

    db = tmp_path / "warehouse.duckdb"
    write_membership(db, make_contacts(80, seed=26))
    monkeypatch.delenv("ACTIVATION_CLI_DSN", raising=False)
    config = write_config(
        tmp_path / "destinations.yml",
        [
            {"name": "lists", "type": "files", "segments": {"families": ["lifecycle"]}},
            {
                "name": "crm",
                "type": "postgres",
                "enabled": False,
                "segments": {"families": ["rfm"]},
                "options": {"dsn_env": "ACTIVATION_CLI_DSN"},
            },
        ],
    )
    common = ["--config", str(config), "--warehouse", str(db)]
    assert main(["sync", *common]) == 0
    assert '"destination": "lists"' in capsys.readouterr().out
    assert (tmp_path / "target" / "activation" / "lists" / "membership.parquet").exists()
    assert main(["sync", *common, "--destination", "crm"]) == 1
    assert "ACTIVATION_CLI_DSN" in capsys.readouterr().err
    assert main(["sync", *common, "--destination", "nope"]) == 2
    assert "no destination named 'nope'" in capsys.readouterr().err


def test_a_warehouse_held_by_another_process_is_a_clear_error(tmp_path: Path) -> None:
    """DuckDB allows one writer process: while another process (a dbt build) holds the file,
    the sync says so, names the destination and the warehouse, and sends nothing."""
    import subprocess
    import sys

    from activation.destinations import DestinationError

    db = tmp_path / "warehouse.duckdb"
    write_membership(db, make_contacts(40, seed=31))
    target = files_destination(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]);"
         " print('held', flush=True); time.sleep(60)", str(db)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(DestinationError) as raised:
            sync_destination(db, target)
    finally:
        holder.kill()
        holder.wait()
    message = str(raised.value)
    assert "'lists'" in message and str(db) in message and "in use by another process" in message
    assert not list(target.path_option("x").glob("*.csv"))


def test_segment_names_that_match_nothing_are_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "warehouse.duckdb"
    write_membership(db, make_contacts(60, seed=32))
    segments = {"names": ["lifecycle:new", "at_risk", "lifecycle:at-risk", "Champion"]}
    with caplog.at_level("WARNING", logger="activation.sync"):
        result = sync_destination(db, files_destination(tmp_path, segments=segments))
    assert result.status == "success" and result.entered > 0
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1, warnings
    assert "'lifecycle:at-risk', 'Champion'" in warnings[0] and "'lists'" in warnings[0]


@pytest.mark.parametrize("kind", ["files", "ad_audience"])
def test_contacts_sharing_an_email_are_one_line_per_list(tmp_path: Path, kind: str) -> None:
    contacts = [
        Contact("c1", "x@shared.example.com", "Ann", "A", True, False, "new", None),
        Contact("c2", " X@Shared.example.com", "Bob", "B", True, False, "new", None),
        Contact("c3", "y@shared.example.com", "Cid", "C", True, False, "new", None),
    ]
    db = tmp_path / "warehouse.duckdb"
    write_membership(db, contacts)
    overrides = {"segments": {"families": ["lifecycle"]}}
    if kind == "ad_audience":
        overrides |= {"type": "ad_audience", "identifier": "hashed_email"}
    target = files_destination(tmp_path, **overrides)
    sync_destination(db, target)
    [lines] = read_csvs(target.path_option("x")).values()
    column = "email_sha256" if kind == "ad_audience" else "email"
    values = [line[column] for line in lines]
    expected = ["x@shared.example.com", "y@shared.example.com"]
    if kind == "ad_audience":
        expected = sorted(sha256_email(email) for email in expected)
    else:
        assert [line["first_name"] for line in lines] == ["Ann", "Cid"]
    assert values == expected
