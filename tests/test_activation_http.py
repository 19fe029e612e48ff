"""The HTTP destination against a real HTTP server on 127.0.0.1 (tests/activation_servers.py):
first run, unchanged rerun, changes, consent, 5xx and 429 retries, time-outs, dropped
connections and reruns, rejected rows, the ledger. Expected results are computed in Python
from the synthetic contacts (tests/activation_data.py), not with activation's SQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from activation_data import (
    Contact,
    change_contacts,
    expected_members,
    ledger,
    make_contacts,
    pairs,
    write_config,
    write_membership,
)
from activation_servers import TOKEN, EspServer, Fault

from activation.config import ConfigError, load_config
from activation.sync import SyncError, sync_destination

TOKEN_ENV = "ACTIVATION_TEST_ESP_TOKEN"


@pytest.fixture
def esp(monkeypatch: pytest.MonkeyPatch) -> Iterator[EspServer]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with EspServer() as server:
        yield server


def destination(tmp_path: Path, url: str, **overrides):
    options = {
        "base_url": url,
        "auth_env": TOKEN_ENV,
        "max_attempts": 5,
        "backoff_initial_s": 0.01,
        "backoff_max_s": 0.05,
        "timeout_s": 2,
    }
    options.update(overrides.pop("options", {}))
    config = {
        "name": "esp",
        "type": "http",
        "mode": "mirror",
        "batch_size": 40,
        "segments": {"families": ["lifecycle", "focus"]},
        "options": options,
    }
    config.update(overrides)
    return load_config(write_config(tmp_path / "destinations.yml", [config])).destinations[0]


def applied(server: EspServer) -> Counter:
    """(list, action, email) -> how many times the server applied it."""
    return Counter((lst, action, email) for _, lst, action, email in server.state.applied)


def server_pairs(server: EspServer) -> set[tuple[str, str]]:
    members = server.state.member_emails()
    return {(lst, email) for lst, emails in members.items() for email in emails}


def renamed(before: list[Contact], after: list[Contact]) -> set[tuple[str, str]]:
    """(segment_key, email) still held whose names changed: sent again as an update."""
    old = {c.contact_id: c for c in before}
    members_before, members_after = pairs(expected_members(before)), expected_members(after)
    out = set()
    for key, emails in members_after.items():
        for email, contact in emails.items():
            previous = old.get(contact.contact_id)
            if (
                (key, email) in members_before
                and previous
                and (
                    (previous.first_name, previous.last_name)
                    != (contact.first_name, contact.last_name)
                )
            ):
                out.add((key, email))
    return out


def assert_no_consentless(server: EspServer, contacts_seen: list[list[Contact]]) -> None:
    """No add ever carried a contact that lacked consent in the membership it was sent from."""
    allowed = set()
    for contacts in contacts_seen:
        allowed |= {c.email for c in contacts if c.reachable}
    never = {c.email for contacts in contacts_seen for c in contacts if not c.reachable} - allowed
    sent = {email for _, _, action, email in server.state.applied if action == "add"}
    assert not (sent & never), f"contacts without consent were sent: {sorted(sent & never)[:5]}"


def test_first_run_all_rerun_nothing_then_exact_diff(tmp_path: Path, esp: EspServer) -> None:
    db = tmp_path / "warehouse.duckdb"
    day1 = make_contacts(500, seed=1)
    write_membership(db, day1)
    target = destination(tmp_path, esp.url)

    first = sync_destination(db, target)
    expected1 = pairs(expected_members(day1))
    assert server_pairs(esp) == expected1
    assert first.status == "success" and first.entered == len(expected1) and first.exited == 0
    assert all(count == 1 for count in applied(esp).values())
    assert_no_consentless(esp, [day1])

    esp.state.reset_log()
    again = sync_destination(db, target)
    assert esp.state.received == [] and again.sent == 0

    day2 = change_contacts(day1, seed=2, fraction=0.2)
    write_membership(db, day2)
    expected2 = pairs(expected_members(day2))
    third = sync_destination(db, target)
    entries, exits = expected2 - expected1, expected1 - expected2
    updates = renamed(day1, day2)
    assert entries and exits and updates  # the change set exercises all three
    got = applied(esp)
    assert {(k, e) for (k, a, e) in got if a == "add"} == entries | updates
    assert {(k, e) for (k, a, e) in got if a == "remove"} == exits
    assert all(count == 1 for count in got.values())
    assert server_pairs(esp) == expected2
    assert (third.entered, third.exited, third.updated) == (len(entries), len(exits), len(updates))
    assert_no_consentless(esp, [day1, day2])
    # A contact that changed lifecycle stage is exactly one exit and one entry.
    moved = [
        (old, new)
        for old in day1
        for new in day2
        if old.contact_id == new.contact_id
        and old.lifecycle != new.lifecycle
        and new.reachable
        and old.reachable
        and old.email == new.email
    ]
    assert moved
    old, new = moved[0]
    assert got[(f"lifecycle:{old.lifecycle}", "remove", old.email)] == 1
    assert got[(f"lifecycle:{new.lifecycle}", "add", new.email)] == 1


def test_server_errors_then_recovery_no_duplicate_no_lost_exit(
    tmp_path: Path, esp: EspServer
) -> None:
    db = tmp_path / "warehouse.duckdb"
    day1 = make_contacts(400, seed=3)
    write_membership(db, day1)
    target = destination(tmp_path, esp.url, options={"max_attempts": 6})
    sync_destination(db, target)
    day2 = change_contacts(day1, seed=4, fraction=0.3)
    write_membership(db, day2)
    esp.state.reset_log()
    # Requests 1-3: 500; 4: 429 with Retry-After; 5: 503; then every 4th request a 502 once.
    script = {1: Fault(status=500), 2: Fault(status=500), 3: Fault(status=500),
              4: Fault(status=429, retry_after="0.2"), 5: Fault(status=503)}  # fmt: skip
    esp.state.fault = lambda n: script.get(n) or (Fault(status=502) if n % 4 == 0 else None)
    result = sync_destination(db, target)
    expected1, expected2 = pairs(expected_members(day1)), pairs(expected_members(day2))
    got = applied(esp)
    assert all(count == 1 for count in got.values()), "a change was applied twice"
    assert {(k, e) for (k, a, e) in got if a == "remove"} == expected1 - expected2
    assert server_pairs(esp) == expected2
    assert result.status == "success" and result.failed == 0
    outcomes = Counter(r.outcome for r in esp.state.received)
    assert outcomes["500"] == 3 and outcomes["429"] == 1 and outcomes["502"] > 0
    # The retry after the 429 came no sooner than Retry-After (0.2 s) asked, although the
    # configured backoff is at most 0.05 s.
    after_429 = esp.state.received[4].at - esp.state.received[3].at
    assert after_429 >= 0.2, after_429
    assert result.exited == len(expected1 - expected2)


def test_time_out_then_retry_carries_the_same_key(tmp_path: Path, esp: EspServer) -> None:
    db = tmp_path / "warehouse.duckdb"
    contacts = make_contacts(120, seed=5)
    write_membership(db, contacts)
    target = destination(tmp_path, esp.url, options={"timeout_s": 0.3})
    esp.state.fault = lambda n: Fault(delay_s=1.0) if n == 2 else None
    result = sync_destination(db, target)
    second, retry = esp.state.received[1], esp.state.received[2]
    assert second.outcome.startswith("applied") and retry.outcome == "replayed"
    assert second.key == retry.key and second.emails == retry.emails
    assert all(count == 1 for count in applied(esp).values())
    assert server_pairs(esp) == pairs(expected_members(contacts))
    assert result.failed == 0


def test_connection_drops_mid_run_then_rerun_finishes_exactly(
    tmp_path: Path, esp: EspServer
) -> None:
    db = tmp_path / "warehouse.duckdb"
    day1 = make_contacts(400, seed=6)
    write_membership(db, day1)
    target = destination(tmp_path, esp.url, options={"max_attempts": 3})
    sync_destination(db, target)
    day2 = change_contacts(day1, seed=7, fraction=0.5)
    write_membership(db, day2)
    esp.state.reset_log()
    # Batches 1-3 go through; batch 4 is applied but its answer is lost; then the network is down.
    esp.state.fault = lambda n: (
        None if n <= 3 else Fault(drop_after=True) if n == 4 else Fault(drop_before=True)
    )
    with pytest.raises(SyncError, match="not delivered"):
        sync_destination(db, target)
    runs = ledger(db)["sync_runs"]
    failed_run = runs[-1] if runs[-1][6] == "failed" else next(r for r in runs if r[6] == "failed")
    assert failed_run[7] == sum(len(r.emails) for r in esp.state.received[:3])  # rows_sent
    assert failed_run[12] > 0  # rows_failed: the rest is accounted for
    esp.state.fault = lambda n: None
    rerun = sync_destination(db, target)
    expected1, expected2 = pairs(expected_members(day1)), pairs(expected_members(day2))
    assert server_pairs(esp) == expected2
    got = applied(esp)
    assert all(count == 1 for count in got.values()), "the rerun applied a change twice"
    assert {(k, e) for (k, a, e) in got if a == "remove"} == expected1 - expected2
    # The batch whose answer was lost was sent again with the same key and recognised.
    keys = [r.key for r in esp.state.received if r.outcome == "replayed"]
    assert esp.state.received[3].key in keys
    assert rerun.status == "success"
    # Over both runs every change of the diff was delivered exactly once in the ledger.
    with duckdb.connect(str(db), read_only=True) as con:
        delivered = con.execute(
            """select segment_key, identifier, action, count(*) from activation.sync_row_results
            where status = 'delivered' and sync_run_id <> (select sync_run_id
                from activation.sync_runs order by started_at limit 1) group by all"""
        ).fetchall()
    assert all(count == 1 for *_, count in delivered)
    assert {(k, e) for k, e, a, _ in delivered if a == "exit"} == expected1 - expected2


def test_invalid_and_refused_emails_are_rejected_the_rest_delivered(
    tmp_path: Path, esp: EspServer
) -> None:
    db = tmp_path / "warehouse.duckdb"
    contacts = make_contacts(300, seed=8, invalid_every=10)
    write_membership(db, contacts)
    esp.state.reject = lambda email: "mailbox unavailable" if email.startswith("user7") else None
    esp.state.reject_batch_status, esp.state.reject_batch_list = 422, "focus:repeat_buyer_lapsing"
    target = destination(tmp_path, esp.url)
    result = sync_destination(db, target)
    wanted = pairs(expected_members(contacts))
    invalid = {
        (key, c.email)
        for c in contacts
        if c.reachable and c.email and "@" not in c.email
        for _, _, key in c.memberships()
    }
    refused = {(k, e) for k, e in wanted if e.startswith("user7")}
    archived = {(k, e) for k, e in wanted if k == "focus:repeat_buyer_lapsing"}
    assert invalid and refused and archived
    assert server_pairs(esp) == wanted - refused - archived
    assert not any("@" not in email for *_, email in esp.state.applied)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select segment_key, identifier, status, error from activation.sync_row_results"
        ).fetchall()
        state = set(
            con.execute(
                "select segment_key, identifier from activation.destination_state"
            ).fetchall()
        )
    rejected = {(k, e): error for k, e, status, error in rows if status == "rejected"}
    assert set(rejected) == invalid | (refused - archived) | archived
    assert all("invalid email" in rejected[pair] for pair in invalid)
    assert all(rejected[pair] == "mailbox unavailable" for pair in refused - archived)
    assert all("HTTP 422" in rejected[pair] for pair in archived)
    assert state == wanted - refused - archived
    assert result.rejected == len(rejected) and result.failed == 0
    # Every row of the diff is in the ledger once: delivered or rejected.
    assert len(rows) == len(wanted | invalid)


def test_missing_secret_names_the_destination_and_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "warehouse.duckdb"
    write_membership(db, make_contacts(10))
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    target = destination(tmp_path, "http://127.0.0.1:9")
    with pytest.raises(ConfigError, match=f"'esp' needs the environment variable {TOKEN_ENV}"):
        sync_destination(db, target)
    with duckdb.connect(str(db), read_only=True) as con:
        schemas = con.execute("select schema_name from information_schema.schemata").fetchall()
    assert ("activation",) not in schemas


def test_wrong_token_stops_the_sync_clearly(
    tmp_path: Path, esp: EspServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "warehouse.duckdb"
    write_membership(db, make_contacts(50))
    monkeypatch.setenv(TOKEN_ENV, "wrong")
    with pytest.raises(SyncError, match="refused the credentials"):
        sync_destination(db, destination(tmp_path, esp.url))
    assert len(esp.state.received) == 1
    assert ledger(db)["destination_state"] == []


def test_row_results_in_the_common_answer_shapes() -> None:
    from activation.destinations.http import HttpAdapter, retry_after_seconds

    rows = [{"row_id": 10 + i, "identifier": f"u{i}@x.example.com"} for i in range(4)]
    parse = HttpAdapter._row_rejections
    assert parse(rows, '{"results": [{"email": "U1@x.example.com", "status": "rejected", '
                 '"error": "bounced"}, {"email": "u2@x.example.com", "status": "ok"}]}') == {
        11: "bounced"
    }  # fmt: skip
    assert parse(rows, '{"errors": [{"index": 3, "message": "invalid"}]}') == {13: "invalid"}
    assert parse(rows, "") == {} and parse(rows, "not json") == {}
    assert retry_after_seconds("2") == 2.0 and retry_after_seconds(None) is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past


def test_killed_mid_run_the_rerun_sends_exactly_the_rest(tmp_path: Path, esp: EspServer) -> None:
    """The sync process is killed (SIGKILL) while a batch is in flight: the rerun sends the
    batches not yet acknowledged, the in-flight one again under the same key, nothing twice."""
    import os
    import signal
    import subprocess
    import sys
    import time

    db = tmp_path / "warehouse.duckdb"
    contacts = make_contacts(300, seed=9)
    write_membership(db, contacts)
    destination(tmp_path, esp.url)  # writes destinations.yml
    esp.state.fault = lambda n: Fault(delay_s=60) if n == 4 else None
    process = subprocess.Popen(
        [sys.executable, "-m", "activation", "sync", "--config", str(tmp_path / "destinations.yml"),
         "--warehouse", str(db)],
        env={**os.environ, TOKEN_ENV: TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len(esp.state.received) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(esp.state.received) >= 4, "the sync never reached batch 4"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    esp.state.fault = lambda n: None
    rerun = sync_destination(db, destination(tmp_path, esp.url))
    assert server_pairs(esp) == pairs(expected_members(contacts))
    assert all(count == 1 for count in applied(esp).values())
    acknowledged = sum(len(r.emails) for r in esp.state.received[:3])
    in_flight = esp.state.received[3]
    assert any(r.key == in_flight.key and r.outcome == "replayed" for r in esp.state.received[4:])
    assert rerun.sent == len(pairs(expected_members(contacts))) - acknowledged
    with duckdb.connect(str(db), read_only=True) as con:
        statuses = con.execute("select status from activation.sync_runs order by started_at")
        assert [row[0] for row in statuses.fetchall()] == ["interrupted", "success"]


def test_a_contact_that_leaves_and_comes_back_is_sent_again_under_a_new_key(
    tmp_path: Path, esp: EspServer
) -> None:
    """The API remembers idempotency keys (it replays the first answer without applying): a
    contact that leaves a list and comes back, or whose name changes and changes back, is a new
    change and must reach the API under a new key, not be swallowed as a replay."""
    from dataclasses import replace

    db = tmp_path / "warehouse.duckdb"
    target = destination(tmp_path, esp.url)
    [contact] = [c for c in make_contacts(60, seed=3) if c.reachable][:1]
    moved = replace(contact, lifecycle="lapsed" if contact.lifecycle != "lapsed" else "new")
    renamed_contact = replace(contact, first_name="Renamed")
    for day in (contact, moved, contact, renamed_contact, contact):
        write_membership(db, [day])
        result = sync_destination(db, target)
        assert result.status == "success"
        assert server_pairs(esp) == pairs(expected_members([day]))
        member = esp.state.members[f"lifecycle:{day.lifecycle}"][day.email]
        assert member["first_name"] == day.first_name
    assert not any(r.outcome.startswith("replayed") for r in esp.state.received)


def test_per_row_statuses_such_as_added_and_removed_count_as_delivered(
    tmp_path: Path, esp: EspServer
) -> None:
    """APIs name an applied row's status in many ways ("added", "removed", "updated"...): only
    a refusal (rejected, error, failed...) or an `error` makes a row rejected."""
    esp.state.ok_status = {"add": "added", "remove": "removed"}
    db = tmp_path / "warehouse.duckdb"
    day1 = make_contacts(120, seed=4)
    write_membership(db, day1)
    target = destination(tmp_path, esp.url)
    first = sync_destination(db, target)
    expected1 = pairs(expected_members(day1))
    assert (first.entered, first.rejected) == (len(expected1), 0)
    day2 = change_contacts(day1, seed=5, fraction=0.3)
    write_membership(db, day2)
    second = sync_destination(db, target)
    exits = expected1 - pairs(expected_members(day2))
    assert exits and (second.exited, second.rejected) == (len(exits), 0)
    esp.state.reset_log()
    assert sync_destination(db, target).sent == 0 and esp.state.received == []

    from activation.destinations.http import HttpAdapter

    rows = [{"row_id": i, "identifier": f"u{i}@x.example.com"} for i in range(3)]
    answer = (
        '{"results": [{"email": "u0@x.example.com", "status": "updated"},'
        ' {"index": 1, "status": "failed"}, {"index": 2, "error": "bounced"}]}'
    )
    assert HttpAdapter._row_rejections(rows, answer) == {1: "failed", 2: "bounced"}


@pytest.mark.parametrize("mode", ["mirror", "upsert", "add_only"])
def test_contacts_sharing_an_email(tmp_path: Path, esp: EspServer, mode: str) -> None:
    """Two contacts with one address are one member: one leaving a list does not take the
    other off it; consent belongs to the address, so an address that one of its contacts may
    not receive mail at is never sent, and leaves every list when that happens, in every mode."""
    from dataclasses import replace

    def contact(number: int, email: str, lifecycle: str, unsubscribed: bool = False) -> Contact:
        return Contact(f"c{number}", email, f"F{number}", "L", True, unsubscribed, lifecycle, None)

    a, b = contact(1, "x@shared.example.com", "new"), contact(2, " X@Shared.example.com", "new")
    c, d = contact(3, "y@shared.example.com", "new"), contact(4, "Y@shared.example.com", "lapsed")
    d = replace(d, unsubscribed=True)
    db = tmp_path / "warehouse.duckdb"
    target = destination(tmp_path, esp.url, mode=mode, segments={"families": ["lifecycle"]})
    days = [
        ([a, b, c, d], {"lifecycle:new": {"x@shared.example.com"}}),
        (
            [replace(a, lifecycle="lapsed"), b, c, d],
            {
                "lifecycle:new": {"x@shared.example.com"},
                "lifecycle:lapsed": {"x@shared.example.com"},
            },
        ),
        ([replace(a, lifecycle="lapsed"), replace(b, unsubscribed=True), c, d], {}),
    ]
    for contacts, expected in days:
        write_membership(db, contacts)
        assert sync_destination(db, target).status == "success"
        assert esp.state.member_emails() == expected
        assert not [r for r in esp.state.received if len(set(r.emails)) != len(r.emails)]
    sent = {email for _, _, action, email in esp.state.applied if action == "add"}
    assert "y@shared.example.com" not in sent
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from activation.destination_state").fetchone()[0] == 0


def test_retry_after_is_honoured_on_503_and_as_an_http_date(tmp_path: Path, esp: EspServer) -> None:
    """Retry-After (seconds, or an HTTP date) is honoured on 503 as on 429, although the
    configured backoff is at most 0.05 s."""
    import email.utils
    import time

    db = tmp_path / "warehouse.duckdb"
    contacts = make_contacts(60, seed=8)
    write_membership(db, contacts)
    target = destination(tmp_path, esp.url, batch_size=1000)

    def fault(number: int) -> Fault | None:
        if number == 1:
            return Fault(status=503, retry_after="0.5")
        if number == 3:  # an HTTP date in whole seconds, made now: 1 to 2 s ahead
            return Fault(
                status=429, retry_after=email.utils.formatdate(time.time() + 2, usegmt=True)
            )
        return None

    esp.state.fault = fault
    result = sync_destination(db, target)
    received = esp.state.received
    assert [r.outcome for r in received[:4]] == ["503", "applied", "429", "applied"]
    assert received[1].at - received[0].at >= 0.5
    assert received[3].at - received[2].at >= 0.9
    assert result.failed == 0 and server_pairs(esp) == pairs(expected_members(contacts))


def test_a_retry_after_beyond_the_cap_stops_the_sync_and_the_rerun_finishes(
    tmp_path: Path, esp: EspServer
) -> None:
    """A Retry-After of an hour (over retry_after_max_s) stops the run at once with a message
    that names the wait and the option, instead of sleeping; the next run sends the rest, each
    member exactly once."""
    import time

    db = tmp_path / "warehouse.duckdb"
    contacts = make_contacts(80, seed=11)
    write_membership(db, contacts)
    target = destination(tmp_path, esp.url, options={"retry_after_max_s": 5})

    esp.state.fault = lambda number: Fault(status=429, retry_after="3600") if number == 2 else None
    started = time.monotonic()
    with pytest.raises(SyncError, match=r"retry after 3600 s .*retry_after_max_s \(5 s\)"):
        sync_destination(db, target)
    assert time.monotonic() - started < 30
    assert [r.outcome for r in esp.state.received] == ["applied", "429"]

    esp.state.fault = lambda number: None
    assert sync_destination(db, target).failed == 0
    assert server_pairs(esp) == pairs(expected_members(contacts))
    assert max(applied(esp).values()) == 1


def test_a_batch_refused_with_400_for_some_rows_delivers_the_others(
    tmp_path: Path, esp: EspServer
) -> None:
    """A strict API refuses a whole batch (400, nothing applied) and names the addresses it
    refused it for: those rows are rejected, the rest of the batch is sent again and delivered."""
    esp.state.strict_status = 400
    esp.state.reject = lambda email: "domain does not accept mail" if "@shop3." in email else None
    db = tmp_path / "warehouse.duckdb"
    contacts = make_contacts(200, seed=12)
    write_membership(db, contacts)
    result = sync_destination(db, destination(tmp_path, esp.url))
    wanted = pairs(expected_members(contacts))
    refused = {(k, e) for k, e in wanted if "@shop3." in e}
    assert refused and server_pairs(esp) == wanted - refused
    assert (result.entered, result.rejected, result.failed) == (
        len(wanted - refused),
        len(refused),
        0,
    )
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select segment_key, identifier, status, error from activation.sync_row_results"
        ).fetchall()
    assert len(rows) == len(wanted)
    assert {(k, e) for k, e, status, _ in rows if status == "rejected"} == refused
    assert all("domain does not accept mail" in error for *_, status, error in rows if error)
    esp.state.reset_log()
    again = sync_destination(db, destination(tmp_path, esp.url))
    assert again.sent == 0 and again.rejected == len(refused)


def test_a_batch_too_large_is_halved_until_the_api_takes_it(tmp_path: Path, esp: EspServer) -> None:
    """An API that takes at most 15 members per call answers 413 to the batches of 40: each is
    halved (20, then 10) and every member arrives exactly once, each part under its own key.
    One member that alone is too large (limit 0) is rejected with the answer, not retried."""
    esp.state.max_members = 15
    db = tmp_path / "warehouse.duckdb"
    contacts = make_contacts(200, seed=13)
    write_membership(db, contacts)
    result = sync_destination(db, destination(tmp_path, esp.url, batch_size=40))
    wanted = pairs(expected_members(contacts))
    assert server_pairs(esp) == wanted and max(applied(esp).values()) == 1
    assert (result.entered, result.rejected, result.failed) == (len(wanted), 0, 0)
    received = esp.state.received
    assert any(r.outcome == "413" for r in received)
    applied_calls = [r for r in received if r.outcome == "applied"]
    assert applied_calls and all(len(r.emails) <= 15 for r in applied_calls)
    keys = [r.key for r in applied_calls]
    assert len(set(keys)) == len(keys)

    esp.state.max_members = 0
    write_membership(db, make_contacts(3, seed=14))
    again = sync_destination(db, destination(tmp_path, esp.url, batch_size=40))
    assert again.failed == 0 and again.rejected > 0
    with duckdb.connect(str(db), read_only=True) as con:
        errors = con.execute(
            "select distinct error from activation.sync_row_results where status = 'rejected'"
        ).fetchall()
    assert errors and all(error.startswith("HTTP 413") for (error,) in errors)


def test_a_removal_answered_404_counts_as_done(tmp_path: Path, esp: EspServer) -> None:
    """An API answering 404 to a removal (member or list already gone) has what the exit asks
    for: the exit is delivered, leaves the state, and is not sent again."""
    db = tmp_path / "warehouse.duckdb"
    day1 = make_contacts(200, seed=11)
    write_membership(db, day1)
    target = destination(tmp_path, esp.url)
    sync_destination(db, target)
    day2 = day1[:150]
    write_membership(db, day2)
    exits = pairs(expected_members(day1)) - pairs(expected_members(day2))
    assert exits
    esp.state.reset_log()
    esp.state.fault = lambda n: Fault(status=404)
    second = sync_destination(db, target)
    assert {r.action for r in esp.state.received} == {"remove"}
    assert second.status == "success" and second.exited == len(exits) and second.rejected == 0
    esp.state.fault = lambda n: None
    esp.state.reset_log()
    third = sync_destination(db, target)
    assert esp.state.received == [] and third.sent == 0
