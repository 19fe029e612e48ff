"""Automation steps to the tools that send them (activation/automation.py,
activation/destinations/automation.py): events to an ESP API on a real HTTP server on 127.0.0.1
(tests/activation_servers.py, POST /events honouring Idempotency-Key) and CSV lists per template.

The warehouse here holds a synthetic `activation_automation_steps` (the dbt mart's columns; its
rules are the dbt unit tests'); what each test expects is written out by hand from the rules of
docs/operator.md (Activation, automation destinations), and the keys computed here with hashlib."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from activation_data import ledger, write_config
from activation_servers import TOKEN, EspServer, Fault

from activation.config import ConfigError, load_config
from activation.destinations import DestinationError
from activation.sync import SyncError, sync_destination

TOKEN_ENV = "ACTIVATION_TEST_ESP_TOKEN"
NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)

COLUMNS = {
    "contact_id": "varchar",
    "scenario": "varchar",
    "step": "integer",
    "trigger_id": "varchar",
    "channel": "varchar",
    "template_key": "varchar",
    "discount_pct": "decimal(5,2)",
    "valid_until": "timestamp",
    "due_at": "timestamp",
    "issued_at": "timestamp",
    "email": "varchar",
    "first_name": "varchar",
    "last_name": "varchar",
    "email_ok": "boolean",
    "has_email_consent": "boolean",
    "has_sms_consent": "boolean",
}


def step(
    contact_id: str,
    scenario: str = "cart",
    number: int = 1,
    trigger_id: str = "k1",
    channel: str = "email",
    template_key: str = "cart_reminder",
    discount_pct: float | None = None,
    hours_ago: float = 1,
    email: str | None = None,
    email_ok: bool = True,
    email_consent: bool = True,
    sms_consent: bool = False,
) -> dict:
    due = NOW - dt.timedelta(hours=hours_ago)
    return {
        "contact_id": contact_id,
        "scenario": scenario,
        "step": number,
        "trigger_id": trigger_id,
        "channel": channel,
        "template_key": template_key,
        "discount_pct": discount_pct,
        "valid_until": due + dt.timedelta(days=7) if discount_pct else None,
        "due_at": due,
        "issued_at": due,
        "email": email if email is not None else f"{contact_id}@example.com",
        "first_name": f"First {contact_id}",
        "last_name": "O'Brien, Jr.",
        "email_ok": email_ok,
        "has_email_consent": email_consent,
        "has_sms_consent": sms_consent,
    }


def write_steps(db: Path, steps: list[dict]) -> None:
    with duckdb.connect(str(db)) as con:
        columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
        con.execute(f"create or replace table main.activation_automation_steps ({columns})")
        marks = ", ".join("?" * len(COLUMNS))
        con.executemany(
            f"insert into main.activation_automation_steps values ({marks})",
            [[row[name] for name in COLUMNS] for row in steps],
        )


def key(row: dict) -> str:
    text = f"{row['contact_id']}|{row['scenario']}|{row['step']}|{row['trigger_id']}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# c1: an email step to send; c2: no email consent; c3: its address fails the email check
# (rejected); c4: an sms step with sms consent; c5: due 72 h ago (held back); c6: an sms step
# without sms consent; c7: a push step (no consent needed); c8: a step of another scenario.
STEPS = [
    step("c1"),
    step("c2", email_consent=False),
    step("c3", email="c3-at-nowhere", email_ok=False),
    step("c4", "prospect", 7, "c4", "sms", "prospect_sms_10pct", 10, sms_consent=True),
    step("c5", hours_ago=72),
    step("c6", "prospect", 7, "c6", "sms", "prospect_sms_10pct", 10),
    step("c7", "prospect", 1, "c7", "push", "prospect_welcome", email_consent=False),
    step("c8", "inactive", 1, "o8", template_key="inactive_3m_news"),
]
SENT = {"c1", "c4", "c7"}  # with channels email, sms, push and scenarios cart, prospect


@pytest.fixture
def esp(monkeypatch: pytest.MonkeyPatch) -> Iterator[EspServer]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with EspServer() as server:
        yield server


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    db = tmp_path / "warehouse.duckdb"
    write_steps(db, STEPS)
    return db


def events_destination(tmp_path: Path, url: str, **options):
    config = {
        "name": "esp_events",
        "type": "automation_events",
        "options": {
            "base_url": url,
            "auth_env": TOKEN_ENV,
            "channels": ["email", "sms", "push"],
            "scenarios": ["cart", "prospect"],
            "max_attempts": 4,
            "backoff_initial_s": 0.01,
            "backoff_max_s": 0.02,
            "timeout_s": 2,
            **options,
        },
    }
    return load_config(write_config(tmp_path / "destinations.yml", [config])).destinations[0]


def applied_keys(server: EspServer) -> Counter:
    return Counter(event_key for event_key, _ in server.state.events)


def test_one_event_per_step_with_the_step_key_and_the_rules(
    tmp_path: Path, esp: EspServer, warehouse: Path
) -> None:
    result = sync_destination(warehouse, events_destination(tmp_path, esp.url))
    by_contact = {row["contact_id"]: row for row in STEPS}
    assert applied_keys(esp) == Counter({key(by_contact[c]): 1 for c in SENT})
    events = {body["contact_id"]: body for _, body in esp.state.events}
    assert set(events) == SENT
    for received in esp.state.received:
        assert received.key == key(by_contact[events_contact(received, events)])
    c4 = events["c4"]
    assert (c4["scenario"], c4["step"], c4["trigger_id"], c4["channel"]) == (
        "prospect",
        7,
        "c4",
        "sms",
    )
    assert (c4["template_key"], c4["discount_pct"], c4["email"]) == (
        "prospect_sms_10pct",
        10.0,
        "c4@example.com",
    )
    assert c4["valid_until"] == f"{by_contact['c4']['valid_until']:%Y-%m-%dT%H:%M:%S}Z"
    assert c4["idempotency_key"] == key(by_contact["c4"])
    assert (result.status, result.sent, result.rejected) == ("success", 3, 1)
    assert result.pending == {"enter": 3, "refused": 1, "held_stale": 1, "no_consent": 2}
    state = ledger(warehouse)["destination_state"]
    assert {(row[1], row[2], row[4]) for row in state} == {
        ("c1", "automation", "cart:1:k1"),
        ("c4", "automation", "prospect:7:c4"),
        ("c7", "automation", "prospect:1:c7"),
    }
    rejected = [row for row in ledger(warehouse)["sync_row_results"] if row[8] == "rejected"]
    assert [(row[2], row[9]) for row in rejected] == [
        ("c3", "invalid email address (fails the activation email check)")
    ]


def events_contact(received, events: dict) -> str:
    """The contact of a received event (by its email)."""
    return next(c for c, body in events.items() if body["email"] == received.emails[0])


def test_a_rerun_sends_nothing_new_and_a_new_step_only(
    tmp_path: Path, esp: EspServer, warehouse: Path
) -> None:
    destination = events_destination(tmp_path, esp.url)
    sync_destination(warehouse, destination)
    esp.state.reset_log()
    again = sync_destination(warehouse, destination)
    assert esp.state.received == [] and again.sent == 0
    new = step("c9", number=2, template_key="cart_second_reminder_5pct", discount_pct=5)
    write_steps(warehouse, [*STEPS, new])
    third = sync_destination(warehouse, destination)
    assert applied_keys(esp) == Counter({key(new): 1})
    assert third.sent == 1


def test_a_retry_after_a_500_or_a_lost_answer_reuses_the_key(
    tmp_path: Path, esp: EspServer, warehouse: Path
) -> None:
    # The first event: a 500, then applied with its answer lost, then answered (replayed).
    faults = {
        1: Fault(status=500),
        2: Fault(drop_after=True),
        4: Fault(status=429, retry_after="0"),
    }
    esp.state.fault = faults.get
    result = sync_destination(warehouse, events_destination(tmp_path, esp.url))
    assert result.sent == 3
    keys = [received.key for received in esp.state.received]
    assert keys[0] == keys[1] == keys[2]
    assert [received.outcome for received in esp.state.received[:3]] == [
        "500",
        "applied, then dropped",
        "replayed",
    ]
    assert keys[3] == keys[4]
    assert applied_keys(esp) == Counter(set(keys))
    assert all(count == 1 for count in applied_keys(esp).values())


def test_an_event_left_in_the_outbox_is_sent_again_first_with_its_key(
    tmp_path: Path, esp: EspServer, warehouse: Path
) -> None:
    # Every attempt of the first event is applied and its answer lost: the sync fails, the
    # event stays in the outbox; the next sync sends it again, same key, and the API applies it
    # once.
    esp.state.fault = lambda number: Fault(drop_after=True) if number <= 4 else None
    destination = events_destination(tmp_path, esp.url)
    with pytest.raises(SyncError, match="failed after 4 attempts"):
        sync_destination(warehouse, destination)
    first_key = esp.state.received[0].key
    assert {received.key for received in esp.state.received} == {first_key}
    result = sync_destination(warehouse, destination)
    assert esp.state.received[4].key == first_key
    assert esp.state.received[4].outcome == "replayed"
    assert all(count == 1 for count in applied_keys(esp).values())
    assert len(applied_keys(esp)) == 3
    assert result.sent == 3  # the replayed event and the two others
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from activation.http_requests").fetchone()[0] == 0
        statuses = con.execute(
            """select status, count(*) from activation.sync_row_results
            where contact_id = 'c1' group by all order by all"""
        ).fetchall()
    assert statuses == [("delivered", 1), ("failed", 1)]


def test_a_refused_event_is_rejected_and_tried_again(
    tmp_path: Path, esp: EspServer, warehouse: Path
) -> None:
    esp.state.refuse_event = lambda event: 422 if event["contact_id"] == "c7" else None
    destination = events_destination(tmp_path, esp.url)
    result = sync_destination(warehouse, destination)
    assert (result.sent, result.rejected) == (2, 2)
    esp.state.refuse_event = lambda event: None
    again = sync_destination(warehouse, destination)
    assert [body["contact_id"] for _, body in esp.state.events][-1] == "c7"
    assert again.sent == 1


def test_retry_after_beyond_the_limit_stops_the_sync(
    tmp_path: Path, esp: EspServer, warehouse: Path
) -> None:
    esp.state.fault = lambda number: Fault(status=429, retry_after="3600")
    destination = events_destination(tmp_path, esp.url, retry_after_max_s=5)
    with pytest.raises(SyncError, match="retry_after_max_s"):
        sync_destination(warehouse, destination)
    assert esp.state.events == []


def test_max_age_hours_holds_back_or_lets_through_older_steps(
    tmp_path: Path, esp: EspServer, warehouse: Path
) -> None:
    result = sync_destination(warehouse, events_destination(tmp_path, esp.url, max_age_hours=100))
    assert "c5" in {body["contact_id"] for _, body in esp.state.events}
    assert result.pending["held_stale"] == 0
    strict = events_destination(tmp_path, esp.url, max_age_hours=0.5)
    write_steps(warehouse, [step("c20", hours_ago=0.25), step("c21", hours_ago=0.75)])
    esp.state.reset_log()
    sync_destination(warehouse, dataclasses.replace(strict, name="strict"))
    assert [body["contact_id"] for _, body in esp.state.events] == ["c20"]


def test_the_default_channel_is_email(tmp_path: Path, esp: EspServer, warehouse: Path) -> None:
    config = {
        "name": "esp_events",
        "type": "automation_events",
        "options": {"base_url": esp.url, "auth_env": TOKEN_ENV},
    }
    destination = load_config(write_config(tmp_path / "d.yml", [config])).destinations[0]
    sync_destination(warehouse, destination)
    assert {body["contact_id"] for _, body in esp.state.events} == {"c1", "c8"}


def lists_destination(tmp_path: Path, **options):
    config = {
        "name": "ac_lists",
        "type": "automation_lists",
        "options": {"path": str(tmp_path / "lists"), **options},
    }
    return load_config(write_config(tmp_path / "destinations.yml", [config])).destinations[0]


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_lists_are_one_csv_per_template_with_tags(tmp_path: Path, warehouse: Path) -> None:
    shared = step("c10", trigger_id="k10", email="c1@example.com", hours_ago=0.5)
    write_steps(warehouse, [*STEPS, shared])
    result = sync_destination(warehouse, lists_destination(tmp_path, tags=["from_warehouse"]))
    files = sorted((tmp_path / "lists").glob("*.csv"))
    names = [re.sub(r"^\d{8}T\d{6}__", "", file.name) for file in files]
    assert names == ["cart_reminder.csv", "inactive_3m_news.csv"]
    assert len({file.name.split("__")[0] for file in files}) == 1
    cart = read_csv(files[0])
    # c10 shares c1's address: one line per address and template (the step due first)
    assert cart == [
        {
            "email": "c1@example.com",
            "first_name": "First c1",
            "last_name": "O'Brien, Jr.",
            "discount_pct": "",
            "valid_until": "",
            "tags": "automation,cart,cart-step-1,cart_reminder,from_warehouse",
        }
    ]
    assert [row["email"] for row in read_csv(files[1])] == ["c8@example.com"]
    assert (result.sent, result.rejected) == (3, 1)  # c1, c10, c8; c3 fails the email check
    rerun = sync_destination(warehouse, lists_destination(tmp_path, tags=["from_warehouse"]))
    assert rerun.sent == 0
    assert sorted((tmp_path / "lists").glob("*.csv")) == files


def test_lists_carry_the_discount(tmp_path: Path, warehouse: Path) -> None:
    row = step("c30", number=2, template_key="cart_second_reminder_5pct", discount_pct=5)
    write_steps(warehouse, [row])
    sync_destination(warehouse, lists_destination(tmp_path))
    (file,) = (tmp_path / "lists").glob("*__cart_second_reminder_5pct.csv")
    (line,) = read_csv(file)
    assert line["discount_pct"] == "5.00"
    assert line["valid_until"] == f"{row['valid_until']:%Y-%m-%d %H:%M:%S}"


@pytest.mark.parametrize(
    ("destination", "message"),
    [
        (
            {"name": "ev", "type": "automation_events", "options": {"auth_env": "X"}},
            "destination 'ev' (destinations[0]): `options`: an http destination needs "
            "`base_url` or `base_url_env`",
        ),
        (
            {"name": "ev", "type": "automation_events", "options": {"base_url": "http://x",
             "channels": ["email", "fax"]}},
            "destination 'ev' (destinations[0]): `options.channels[1]`: 'fax' is not one of "
            "'email', 'sms' or 'push'",
        ),
        (
            {"name": "ev", "type": "automation_events", "options": {"base_url": "http://x",
             "max_age_hours": 0}},
            "destination 'ev' (destinations[0]): `options.max_age_hours`: expected a positive "
            "number, got 0",
        ),
        (
            {"name": "li", "type": "automation_lists", "options": {"channels": "sms"}},
            "destination 'li' (destinations[0]): `options.channels[0]`: expected email (a list "
            "holds addresses), got 'sms'",
        ),
        (
            {"name": "li", "type": "automation_lists", "options": {"list_name": "x"}},
            "destination 'li' (destinations[0]): unknown options ['list_name'] for type "
            "automation_lists; allowed: ['channels', 'max_age_hours', 'path', 'scenarios', 'tags']",
        ),
        (
            {"name": "li", "type": "automation_lists", "segments": {"families": ["rfm"]}},
            "destination 'li' (destinations[0]): unknown keys ['segments']",
        ),
    ],
)  # fmt: skip
def test_config_errors_name_the_destination_and_the_key(
    tmp_path: Path, destination: dict, message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path / "destinations.yml", [destination]))
    assert message in str(error.value)


def test_a_warehouse_without_the_mart_is_named(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    with pytest.raises(DestinationError, match="activation_automation_steps"):
        sync_destination(db, lists_destination(tmp_path))


def test_dagster_delivers_the_automation_destinations_after_each_hourly_run(
    tmp_path: Path, esp: EspServer, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagster as dg

    from activation.dagster_assets import (
        AUTOMATION_DELIVERY_JOB_NAME,
        activation_asset_key,
        activation_job,
        automation_delivery_job,
        build_activation_assets,
    )
    from orchestration.definitions import defs
    from orchestration.jobs import AUTOMATION_JOB_NAME

    monkeypatch.setenv("DBT_DUCKDB_PATH", str(warehouse))
    events = events_destination(tmp_path, esp.url)
    config = load_config(
        write_config(
            tmp_path / "all.yml",
            [
                {
                    "name": "esp_events",
                    "type": "automation_events",
                    "options": {**events.options, "channels": list(events.options["channels"])},
                },
                {
                    "name": "ac_lists",
                    "type": "automation_lists",
                    "options": {"path": str(tmp_path / "lists")},
                },
                {"name": "email_lists", "type": "files", "segments": {"families": ["rfm"]}},
            ],
        )  # fmt: skip
    )
    assets = build_activation_assets(config, dg.RetryPolicy(max_retries=0))
    local = dg.Definitions(assets=assets, jobs=[activation_job, automation_delivery_job])
    automation = {activation_asset_key("esp_events"), activation_asset_key("ac_lists")}
    delivery = local.resolve_job_def(AUTOMATION_DELIVERY_JOB_NAME)
    assert set(delivery.asset_layer.executable_asset_keys) == automation
    daily = local.resolve_job_def(activation_job.name)
    assert set(daily.asset_layer.executable_asset_keys) == {
        *automation,
        activation_asset_key("email_lists"),
    }
    assert delivery.tags["segment_warehouse/duckdb"] == "writer"
    graph = local.resolve_asset_graph()
    for key in automation:
        assert graph.get(key).parent_keys == {dg.AssetKey(["activation_automation_steps"])}
    chosen = [a for a in assets if set(a.keys) <= automation]
    result = dg.materialize(chosen, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    assert {body["contact_id"] for _, body in esp.state.events} == SENT
    assert len(list((tmp_path / "lists").glob("*.csv"))) == 2
    # In the code location: the job, and the sensor that requests it after the hourly build.
    sensor = defs.resolve_sensor_def("automation_delivery_after_automation")
    assert sensor.job_name == AUTOMATION_DELIVERY_JOB_NAME
    # (Dagster keeps the monitored jobs private; the list is what the decorator was given.)
    assert [job.name for job in sensor._monitored_jobs] == [AUTOMATION_JOB_NAME]
    assert defs.resolve_job_def(AUTOMATION_DELIVERY_JOB_NAME)
