"""The PostgreSQL destination against a real PostgreSQL server (Debian's postgresql, started
here on a temporary directory and a free port on 127.0.0.1; the fixture fails, never skips,
when the server binaries are missing)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest
from activation_data import (
    change_contacts,
    expected_members,
    ledger,
    make_contacts,
    write_config,
    write_membership,
)
from activation_servers import PostgresServer, remove_postgres, start_postgres

from activation.config import load_config
from activation.destinations import DestinationError
from activation.sync import SyncError, sync_destination

DSN_ENV = "ACTIVATION_TEST_PG_DSN"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = start_postgres()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    remove_postgres(server)


@pytest.fixture
def pg_env(postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> PostgresServer:
    monkeypatch.setenv(DSN_ENV, postgres.dsn)
    return postgres


def pg_destination(tmp_path: Path, table: str, **overrides):
    config = {
        "name": "crm",
        "type": "postgres",
        "mode": "mirror",
        "segments": {"families": ["lifecycle", "focus"]},
        "options": {"dsn_env": DSN_ENV, "table": table},
    }
    config.update(overrides)
    return load_config(write_config(tmp_path / "destinations.yml", [config])).destinations[0]


def pg_rows(server: PostgresServer, table: str) -> dict[tuple[str, str], tuple]:
    with psycopg.connect(server.dsn) as con:
        rows = con.execute(
            f"select segment_key, identifier, contact_id, first_name, last_name from {table}"
        ).fetchall()
    return {(row[0], row[1]): row[2:] for row in rows}


def expected_rows(contacts) -> dict[tuple[str, str], tuple]:
    return {
        (key, email): (contact.contact_id, contact.first_name, contact.last_name)
        for key, emails in expected_members(contacts).items()
        for email, contact in emails.items()
    }


def test_mirror_sync_upserts_entries_and_deletes_exits(tmp_path: Path, pg_env) -> None:
    db = tmp_path / "warehouse.duckdb"
    day1 = make_contacts(600, seed=11)
    write_membership(db, day1)
    target = pg_destination(tmp_path, "members_mirror")
    first = sync_destination(db, target)
    assert pg_rows(pg_env, "members_mirror") == expected_rows(day1)
    assert first.entered == len(expected_rows(day1))
    assert sync_destination(db, target).sent == 0
    day2 = change_contacts(day1, seed=12, fraction=0.25)
    write_membership(db, day2)
    second = sync_destination(db, target)
    before, after = expected_rows(day1), expected_rows(day2)
    assert pg_rows(pg_env, "members_mirror") == after
    assert second.entered == len(after.keys() - before.keys())
    assert second.exited == len(before.keys() - after.keys())
    changed_names = {k for k in after.keys() & before.keys() if after[k] != before[k]}
    assert changed_names and second.updated == len(changed_names)
    assert second.sent == second.entered + second.exited + second.updated


def test_postgres_down_clear_error_ledger_unchanged_then_catch_up(tmp_path: Path, pg_env) -> None:
    db = tmp_path / "warehouse.duckdb"
    day1 = make_contacts(300, seed=13)
    write_membership(db, day1)
    target = pg_destination(tmp_path, "members_down")
    sync_destination(db, target)
    day2 = change_contacts(day1, seed=14, fraction=0.3)
    write_membership(db, day2)
    before = ledger(db)
    pg_env.stop()
    try:
        with pytest.raises(DestinationError) as raised:
            sync_destination(db, target)
    finally:
        pg_env.start()
    message = str(raised.value)
    assert "'crm'" in message and "cannot connect to PostgreSQL" in message
    assert f"127.0.0.1:{pg_env.port}" in message and DSN_ENV in message
    assert ledger(db) == before
    caught_up = sync_destination(db, target)
    assert pg_rows(pg_env, "members_down") == expected_rows(day2)
    assert caught_up.status == "success" and caught_up.sent > 0


def test_one_transaction_a_failure_midway_changes_nothing(tmp_path: Path, pg_env) -> None:
    db = tmp_path / "warehouse.duckdb"
    day1 = make_contacts(300, seed=15)
    write_membership(db, day1)
    target = pg_destination(tmp_path, "members_atomic")
    sync_destination(db, target)
    day2 = change_contacts(day1, seed=16, fraction=0.4)
    write_membership(db, day2)
    table_before = pg_rows(pg_env, "members_atomic")
    state_before = ledger(db)["destination_state"]
    # A trigger refuses one of the new rows: the deletes already done must roll back too.
    newcomer = next(c for c in day2 if c.contact_id.startswith("n") and c.reachable)
    with psycopg.connect(pg_env.dsn, autocommit=True) as con:
        con.execute(
            f"""create function refuse() returns trigger language plpgsql as $$
            begin
                if new.contact_id = '{newcomer.contact_id}' then
                    raise exception 'refused by a trigger';
                end if;
                return new;
            end $$;
            create trigger refuse before insert on members_atomic
            for each row execute function refuse();"""
        )
    with pytest.raises(SyncError, match="refused by a trigger"):
        sync_destination(db, target)
    assert pg_rows(pg_env, "members_atomic") == table_before
    after_failure = ledger(db)
    assert after_failure["destination_state"] == state_before
    failed_runs = [r for r in after_failure["sync_runs"] if r[6] == "failed"]
    assert len(failed_runs) == 1 and failed_runs[0][7] == 0 and failed_runs[0][12] > 0
    with psycopg.connect(pg_env.dsn, autocommit=True) as con:
        con.execute("drop trigger refuse on members_atomic; drop function refuse()")
    sync_destination(db, target)
    assert pg_rows(pg_env, "members_atomic") == expected_rows(day2)


def test_contact_id_destination_without_consent_and_upsert_mode(tmp_path: Path, pg_env) -> None:
    db = tmp_path / "warehouse.duckdb"
    day1 = make_contacts(200, seed=17)
    write_membership(db, day1)
    target = pg_destination(
        tmp_path,
        "members_internal",
        identifier="contact_id",
        consent="none",
        mode="upsert",
        segments={"names": ["loyal", "focus:one_time_buyer_lapsing"]},
    )
    sync_destination(db, target)

    def wanted(contacts):
        return {
            (key, contact.contact_id)
            for contact in contacts
            for _, segment, key in contact.memberships()
            if segment == "loyal" or key == "focus:one_time_buyer_lapsing"
        }

    assert set(pg_rows(pg_env, "members_internal")) == wanted(day1)
    day2 = change_contacts(day1, seed=18, fraction=0.4)
    write_membership(db, day2)
    result = sync_destination(db, target)
    # upsert: entries arrive, nothing leaves (no consent rule applies to this destination)
    assert set(pg_rows(pg_env, "members_internal")) == wanted(day1) | wanted(day2)
    assert result.exited == 0 and result.entered == len(wanted(day2) - wanted(day1))


def test_postgres_binaries_are_found() -> None:
    """CI installs Debian's postgresql; a machine without it fails the fixture, never skips."""
    from activation_servers import postgres_bindir

    assert postgres_bindir() is not None, "install postgresql (apt-get install postgresql)"


def test_ledger_accounts_for_every_row(tmp_path: Path, pg_env) -> None:
    db = tmp_path / "warehouse.duckdb"
    day1 = make_contacts(250, seed=19, invalid_every=9)
    write_membership(db, day1)
    target = pg_destination(tmp_path, "members_ledger")
    sync_destination(db, target)
    write_membership(db, change_contacts(day1, seed=20, fraction=0.3))
    sync_destination(db, target)
    with duckdb.connect(str(db), read_only=True) as con:
        mismatches = con.execute(
            """select runs.sync_run_id from activation.sync_runs as runs
            left join (
                select sync_run_id,
                    count(*) filter (where status = 'delivered') as sent,
                    count(*) filter (where status = 'delivered' and action = 'enter') as entered,
                    count(*) filter (where status = 'delivered' and action = 'exit') as exited,
                    count(*) filter (where status = 'rejected') as rejected
                from activation.sync_row_results group by sync_run_id
            ) as results using (sync_run_id)
            where runs.rows_sent <> coalesce(results.sent, 0)
                or runs.rows_entered <> coalesce(results.entered, 0)
                or runs.rows_exited <> coalesce(results.exited, 0)
                or runs.rows_rejected <> coalesce(results.rejected, 0)"""
        ).fetchall()
        runs = con.execute("select status, rows_rejected from activation.sync_runs").fetchall()
    assert mismatches == []
    assert [status for status, _ in runs] == ["success", "success"]
    assert all(rejected > 0 for _, rejected in runs)  # the invalid emails, every run


def test_a_schema_that_does_not_exist_yet_is_created(tmp_path: Path, pg_env) -> None:
    db = tmp_path / "warehouse.duckdb"
    contacts = make_contacts(80, seed=21)
    write_membership(db, contacts)
    options = {"dsn_env": DSN_ENV, "schema": "crm_activation", "table": "members"}
    result = sync_destination(db, pg_destination(tmp_path, "members", options=options))
    assert result.status == "success" and result.failed == 0
    assert pg_rows(pg_env, "crm_activation.members") == expected_rows(contacts)


def test_a_destination_moved_to_another_table_gets_everything(tmp_path: Path, pg_env) -> None:
    """The acknowledged state describes the table the rows went to: pointed at another table,
    the destination sends everything there (the old table is left as it was)."""
    db = tmp_path / "warehouse.duckdb"
    contacts = make_contacts(120, seed=22)
    write_membership(db, contacts)
    first = sync_destination(db, pg_destination(tmp_path, "members_before_move"))
    moved = sync_destination(db, pg_destination(tmp_path, "members_after_move"))
    assert moved.entered == first.entered == len(expected_rows(contacts))
    assert pg_rows(pg_env, "members_after_move") == expected_rows(contacts)
    assert pg_rows(pg_env, "members_before_move") == expected_rows(contacts)
    again = sync_destination(db, pg_destination(tmp_path, "members_after_move"))
    assert again.sent == 0


def test_contact_id_destination_sends_an_email_that_fails_the_check_as_null(
    tmp_path: Path, pg_env, caplog: pytest.LogCaptureFixture
) -> None:
    """With identifier contact_id the contact is the member: its row is sent, but an address
    that fails the email check is sent as NULL (never the address), and the run says how many."""
    import logging
    from dataclasses import replace

    db = tmp_path / "warehouse.duckdb"
    contacts = make_contacts(120, seed=23, invalid_every=7)
    contacts[0] = replace(contacts[0], email="first..last@example.net")  # passes the check
    contacts[1] = replace(contacts[1], email=" Mixed.Case@Example.NET ")
    write_membership(db, contacts)
    target = pg_destination(
        tmp_path, "members_by_id", identifier="contact_id", consent="none", mode="mirror"
    )
    with caplog.at_level(logging.WARNING, logger="activation.sync"):
        result = sync_destination(db, target)
    with psycopg.connect(pg_env.dsn) as con:
        rows = con.execute("select contact_id, segment_key, email from members_by_id").fetchall()
    emails = {contact_id: email for contact_id, _, email in rows}
    failing = {c.contact_id for c in contacts if c.email and "@" not in c.email}
    assert failing and result.rejected == 0
    assert {(c, k) for c, k, _ in rows} == {
        (c.contact_id, key) for c in contacts for *_, key in c.memberships()
    }
    assert all(emails[contact_id] is None for contact_id in failing)
    assert emails[contacts[0].contact_id] == "first..last@example.net"
    assert emails[contacts[1].contact_id] == "mixed.case@example.net"
    assert all(
        emails[c.contact_id] == (c.email.strip().lower() if c.email else None)
        for c in contacts
        if c.contact_id not in failing
    )
    failing_rows = sum(len(c.memberships()) for c in contacts if c.contact_id in failing)
    assert f"{failing_rows} rows have an email that fails the activation email check" in (
        caplog.text
    )
