"""Keys that survive a rerun (issue 19): a request that may have reached the API goes out again
under the key it went out with, whatever else is pending, so an API that honours
Idempotency-Key never applies a change twice. Against the real HTTP server of
tests/activation_servers.py, with sync processes killed (SIGKILL) at chosen and random points,
faults (5xx, 429 with Retry-After, 413, dropped connections, lost answers) and addresses the API
refuses per row."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from activation_data import (
    Contact,
    change_contacts,
    expected_members,
    make_contacts,
    pairs,
    write_membership,
)
from activation_servers import TOKEN, EspServer, EspState, Fault
from test_activation_http import TOKEN_ENV, assert_no_consentless, destination, server_pairs

from activation.sync import SyncError, sync_destination


@pytest.fixture
def esp(monkeypatch: pytest.MonkeyPatch) -> Iterator[EspServer]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with EspServer() as server:
        yield server


def repeated_applications(state: EspState) -> list[tuple[str, str, str, str, str]]:
    """Changes the API applied a second time under another key: an application of (list,
    action, email, names) right after the same one, with no other change of that member in
    between (a member who leaves and comes back, or whose names change, is a new change).
    Returns (list, action, email, first key, second key)."""
    last: dict[tuple[str, str], tuple[tuple, str]] = {}
    repeated = []
    for key, list_name, action, email, first_name, last_name in state.applied_members:
        change = (action, first_name, last_name) if action == "add" else (action,)
        previous = last.get((list_name, email))
        if previous is not None and previous[0] == change:
            repeated.append((list_name, action, email, previous[1], key))
        last[(list_name, email)] = (change, key)
    return repeated


def sync_process(tmp_path: Path, db: Path) -> subprocess.Popen:
    """`python -m activation sync` of tmp_path/destinations.yml, in a process a test can kill."""
    return subprocess.Popen(
        [sys.executable, "-m", "activation", "sync", "--config", str(tmp_path / "destinations.yml"),
         "--warehouse", str(db)],
        env={**os.environ, TOKEN_ENV: TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def kill_when(
    process: subprocess.Popen, ready: Callable[[], bool], after_s: float = 0.0, limit_s: float = 60
) -> bool:
    """SIGKILL the process once `ready()` holds (and after_s more seconds); False when it ended
    on its own first."""
    deadline = time.monotonic() + limit_s
    while not ready():
        if process.poll() is not None:
            return False
        assert time.monotonic() < deadline, "the sync never reached the kill point"
        time.sleep(0.005)
    if after_s:
        time.sleep(after_s)
    if process.poll() is not None:
        return False
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return True


def test_a_refused_row_and_a_kill_after_the_api_applied_a_batch_send_nothing_twice(
    tmp_path: Path, esp: EspServer
) -> None:
    """Issue 19's case: 79 members, batch_size 20, the third address passes our check but the
    API refuses it (422 naming it, nothing of that batch applied): the rest of batch 1 goes
    again; batch 2 is applied, then the sync is killed before it reads the answer. The rerun
    sends batch 2 again under its key (the API replays its answer), then the rest: no member is
    applied twice, the list is exact."""
    contacts = [
        Contact(f"c{n:03d}", f"member{n:03d}@example.net", f"F{n}", "L", True, False, "loyal", None)
        for n in range(1, 80)
    ]
    contacts[2] = Contact("c003", "member003..x@example.net", "F3", "L", True, False, "loyal", None)
    db = tmp_path / "warehouse.duckdb"
    write_membership(db, contacts)
    destination(tmp_path, esp.url, batch_size=20, segments={"names": ["lifecycle:loyal"]})
    esp.state.strict_status = 422
    esp.state.reject = lambda email: "invalid address" if ".." in email else None
    esp.state.fault = lambda number: Fault(delay_s=60) if number == 3 else None

    process = sync_process(tmp_path, db)
    killed = kill_when(
        process,
        lambda: len(esp.state.received) >= 3 and esp.state.received[2].outcome == "applied",
    )
    assert killed
    assert [r.outcome for r in esp.state.received] == ["422", "applied", "applied"]
    assert len(esp.state.applied) == 39
    in_flight = esp.state.received[2]

    esp.state.fault = lambda number: None
    result = sync_destination(
        db, destination(tmp_path, esp.url, batch_size=20, segments={"names": ["lifecycle:loyal"]})
    )
    repeated = repeated_applications(esp.state)
    assert not repeated, f"{len(repeated)} changes applied twice, e.g. {repeated[:3]}"
    assert len(esp.state.applied) == 78  # each member once
    wanted = {e for e in (c.email for c in contacts) if ".." not in e}
    assert esp.state.member_emails() == {"lifecycle:loyal": wanted}
    replayed = [r for r in esp.state.received[3:] if r.key == in_flight.key]
    assert [r.outcome for r in replayed] == ["replayed"] and replayed[0].emails == in_flight.emails
    assert result.status == "success" and result.rejected == 1 and result.failed == 0
    assert result.sent == 78 - 19  # batch 2 (replayed) and the 39 never sent
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from activation.http_requests").fetchone() == (0,)
        state = con.execute("select identifier from activation.destination_state").fetchall()
    assert {row[0] for row in state} == wanted
    # A rerun sends the refused address again (it may be fixed at the API) and nothing else.
    esp.state.reset_log()
    again = sync_destination(
        db, destination(tmp_path, esp.url, batch_size=20, segments={"names": ["lifecycle:loyal"]})
    )
    assert (again.sent, again.rejected) == (0, 1) and esp.state.applied == []


def refused_by_api(email: str) -> str | None:
    """Addresses that pass our check but the API refuses per row: every 23rd user."""
    number = email.removeprefix("user").partition("@")[0]
    return "mailbox unavailable" if number.isdigit() and int(number) % 23 == 0 else None


def random_faults(rng: random.Random, first: int, count: int = 400) -> dict[int, Fault]:
    faults = {}
    for number in range(first, first + count):
        if rng.random() < 0.3:
            faults[number] = rng.choice(
                (
                    Fault(status=500),
                    Fault(status=503, retry_after="0.01"),
                    Fault(status=429, retry_after="0.01"),
                    Fault(status=413),  # a limit the API applies to this call only
                    Fault(drop_before=True),
                    Fault(drop_after=True),
                    Fault(delay_s=0.4),  # applied, the answer comes after the client's time-out
                )
            )
    return faults


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_two_days_of_faults_kills_and_refusals_apply_each_change_once(
    tmp_path: Path, esp: EspServer, seed: int
) -> None:
    """Two days of membership changes; each day, runs with random faults and runs killed at
    random points (while a request is held before or after the API applied it, or at a random
    moment, e.g. while the ledger is written), then a run without faults: the lists are exact,
    no contact without consent was ever added, no change was applied twice under two keys."""
    rng = random.Random(seed)
    db = tmp_path / "warehouse.duckdb"
    esp.state.reject = refused_by_api
    esp.state.strict_status = 422 if seed % 2 else None
    esp.state.max_members = (None, 7, 10)[seed % 3]  # the API's size limit (413 beyond it)
    overrides = {
        "batch_size": rng.choice((12, 25)),
        "options": {"max_attempts": 2, "timeout_s": 0.25, "backoff_max_s": 0.02},
    }
    days = [make_contacts(160, seed=seed * 10)]
    days.append(change_contacts(days[0], seed=seed * 10 + 1, fraction=0.35))
    kills = 0
    for contacts in days:
        write_membership(db, contacts)
        for _ in range(6):
            first = len(esp.state.received) + 1
            faults = random_faults(rng, first)
            if rng.random() < 0.5:
                destination(tmp_path, esp.url, **overrides)  # the file the process reads
                at = first + rng.randrange(0, 15)
                point = rng.choice(("before applying", "after applying", "at random"))
                if point == "before applying":
                    faults[at] = Fault(hold_before_s=30)
                elif point == "after applying":
                    faults[at] = Fault(delay_s=30)
                esp.state.fault = faults.get
                process = sync_process(tmp_path, db)

                def reached(at: int = at, point: str = point) -> bool:
                    received = esp.state.received
                    if len(received) < at:
                        return False
                    outcome = received[at - 1].outcome
                    if point == "before applying":
                        return outcome == "held before applying"
                    if point == "after applying":
                        return outcome.startswith(("applied", "replayed", "4"))
                    return True

                kills += kill_when(process, reached, rng.uniform(0, 0.05) if at else 0)
            else:
                esp.state.fault = faults.get
                # Attempts may run out (SyncError): the next run resumes.
                with contextlib.suppress(SyncError):
                    sync_destination(db, destination(tmp_path, esp.url, **overrides))
        esp.state.fault = lambda number: None
        result = sync_destination(db, destination(tmp_path, esp.url, **overrides))
        wanted = pairs(expected_members(contacts))
        refused = {(key, email) for key, email in wanted if refused_by_api(email)}
        assert refused and result.status == "success" and result.failed == 0
        assert server_pairs(esp) == wanted - refused, "the lists are not the desired set"
        with duckdb.connect(str(db), read_only=True) as con:
            rejected = con.execute(
                """select distinct segment_key, identifier from activation.sync_row_results
                where sync_run_id = ? and status = 'rejected'""",
                [result.sync_run_id],
            ).fetchall()
        # A refused row replayed from the outbox is rejected, then sent again with the diff
        # (the API may accept it now) and rejected again: each refused row, at least once.
        assert set(rejected) == refused and result.rejected >= len(refused)
    assert kills >= 1
    assert_no_consentless(esp, days)
    repeated = repeated_applications(esp.state)
    assert not repeated, f"{len(repeated)} changes applied twice, e.g. {repeated[:3]}"
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from activation.http_requests").fetchone() == (0,)


def test_an_outage_during_the_replay_fails_the_sync_clearly_and_keeps_the_outbox(
    tmp_path: Path, esp: EspServer
) -> None:
    """Batch 2 is applied but its answer lost, then the network goes down: the run fails with
    batch 2 in the outbox. The next run finds the API down while sending it again: it fails,
    says why, sends nothing new and keeps the outbox. The run after that sends batch 2 under its
    key (the API replays its answer) and then the rest: each member applied once."""
    db = tmp_path / "warehouse.duckdb"
    contacts = make_contacts(150, seed=31)
    write_membership(db, contacts)
    target = destination(tmp_path, esp.url, options={"max_attempts": 2})
    esp.state.fault = lambda n: None if n == 1 else Fault(drop_after=True) if n == 2 else (
        Fault(drop_before=True)
    )  # fmt: skip
    with pytest.raises(SyncError, match="not delivered"):
        sync_destination(db, target)
    lost = esp.state.received[1]
    with duckdb.connect(str(db), read_only=True) as con:
        outbox = con.execute("select idempotency_key from activation.http_requests").fetchall()
    assert outbox == [(lost.key,)]

    esp.state.fault = lambda n: Fault(status=503)
    before = len(esp.state.received)
    with pytest.raises(SyncError, match="left unacknowledged failed.* the next sync sends"):
        sync_destination(db, target)
    assert {r.key for r in esp.state.received[before:]} == {lost.key}
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from activation.http_requests").fetchone() == (1,)
        run = con.execute(
            """select status, rows_sent, rows_failed from activation.sync_runs
            order by started_at desc limit 1"""
        ).fetchone()
    assert run == ("failed", 0, len(lost.emails))

    esp.state.fault = lambda n: None
    result = sync_destination(db, target)
    assert [r.outcome for r in esp.state.received if r.key == lost.key][-1] == "replayed"
    assert repeated_applications(esp.state) == []
    assert server_pairs(esp) == pairs(expected_members(contacts))
    assert result.status == "success" and result.failed == 0
    assert result.sent == len(pairs(expected_members(contacts))) - len(esp.state.received[0].emails)


def test_a_destination_pointed_at_other_lists_drops_its_outbox(
    tmp_path: Path, esp: EspServer
) -> None:
    """What was in flight to the old lists is not sent there again once the destination goes
    to other lists: the outbox of the old target is dropped and everything goes to the new."""
    db = tmp_path / "warehouse.duckdb"
    contacts = make_contacts(120, seed=32)
    write_membership(db, contacts)
    esp.state.fault = lambda n: Fault(drop_after=True) if n == 2 else (
        Fault(drop_before=True) if n > 2 else None
    )  # fmt: skip
    with pytest.raises(SyncError):
        sync_destination(db, destination(tmp_path, esp.url, options={"max_attempts": 2}))
    esp.state.fault = lambda n: None
    esp.state.reset_log()
    moved = destination(tmp_path, esp.url, options={"list_name": "new-{segment_key}"})
    result = sync_destination(db, moved)
    assert {r.list_name.startswith("new-") for r in esp.state.received} == {True}
    wanted = pairs(expected_members(contacts))
    assert result.entered == len(wanted) and result.failed == 0
    assert {(k, e) for k, e in server_pairs(esp) if k.startswith("new-")} == {
        (f"new-{k}", e) for k, e in wanted
    }
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from activation.http_requests").fetchone() == (0,)
