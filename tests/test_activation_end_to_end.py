"""From a real dbt build to every destination, through the Dagster assets: files, ad audience,
PostgreSQL (a real server) and an HTTP API that keeps failing (a real server), which is retried
and does not stop the others. Expected contents come from segment_membership read in Python."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import psycopg
import pytest
from activation_data import write_config
from activation_servers import TOKEN, EspServer, Fault, remove_postgres, start_postgres
from conftest import build_warehouse, generate_demo_store

from activation.config import load_config
from activation.dagster_assets import (
    ACTIVATION_GROUP,
    ACTIVATION_JOB_NAME,
    activation_asset_key,
    build_activation_assets,
)
from orchestration.definitions import defs
from orchestration.jobs import BUILD_JOB_NAME
from orchestration.resources import DUCKDB_POOL

# Builds the dbt project: left out of `make quick` (pytest -m 'not e2e').
pytestmark = pytest.mark.e2e

AS_OF = "2025-06-30"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("activation-e2e")
    store = generate_demo_store(root / "store", contacts=300, seed=5, as_of=AS_OF)
    return build_warehouse(store, AS_OF, root / "build", with_tests=False)


@pytest.fixture(scope="module")
def postgres() -> Iterator:
    try:
        server = start_postgres()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    remove_postgres(server)


def membership(db: Path) -> list[dict]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute("select * from main.segment_membership")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def reachable(row: dict) -> bool:
    """What an email destination may receive: the mart's flag (held against the reference rule
    of SPEC 4 in test_engagement_vs_reference), which implies consent and no unsubscription."""
    if row["is_email_reachable"]:
        assert row["email_consent"] and not row["is_unsubscribed"], row
    return bool(row["email"]) and row["is_email_reachable"]


def test_dbt_build_then_every_destination_through_dagster(
    tmp_path: Path, warehouse: Path, postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBT_DUCKDB_PATH", str(warehouse))
    monkeypatch.setenv("E2E_PG_DSN", postgres.dsn)
    monkeypatch.setenv("E2E_ESP_TOKEN", TOKEN)
    with EspServer() as esp:
        esp.state.fault = lambda n: Fault(status=500)
        config = load_config(
            write_config(
                tmp_path / "destinations.yml",
                [
                    {
                        "name": "lists",
                        "type": "files",
                        "segments": {"families": ["lifecycle", "focus"]},
                        "options": {"path": "out/lists"},
                    },
                    {
                        "name": "ads",
                        "type": "ad_audience",
                        "segments": {"families": ["rfm"]},
                        "options": {"path": "out/ads"},
                    },
                    {
                        "name": "crm",
                        "type": "postgres",
                        "identifier": "contact_id",
                        "consent": "none",
                        "segments": {"families": ["rfm", "lifecycle", "focus"]},
                        "options": {"dsn_env": "E2E_PG_DSN", "table": "e2e_membership"},
                    },
                    {
                        "name": "esp",
                        "type": "http",
                        "segments": {"families": ["focus"]},
                        "options": {
                            "base_url": esp.url,
                            "auth_env": "E2E_ESP_TOKEN",
                            "max_attempts": 2,
                            "backoff_initial_s": 0.01,
                        },
                    },
                ],
            )
        )
        assets = build_activation_assets(config, dg.RetryPolicy(max_retries=1, delay=0))
        result = dg.materialize(
            assets, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
        )
        esp_requests = len(esp.state.received)
    materialised = {event.asset_key for event in result.get_asset_materialization_events()}
    assert materialised == {activation_asset_key(n) for n in ("lists", "ads", "crm")}
    assert not result.success
    # the failing destination was retried once by Dagster: 2 attempts x 2 HTTP tries each
    assert esp_requests == 4
    rows = membership(warehouse)
    assert rows and any(not reachable(row) for row in rows)

    lists = tmp_path / "out" / "lists"
    held = {(r["tags"], r["email"]) for p in lists.glob("*.csv") for r in csv.DictReader(p.open())}
    assert held == {
        (row["segment_key"], row["email"])
        for row in rows
        if row["segment_family"] in ("lifecycle", "focus") and reachable(row)
    }
    ads = {
        r["email_sha256"]
        for p in (tmp_path / "out" / "ads").glob("*.csv")
        for r in csv.DictReader(p.open())
    }
    assert ads == {
        hashlib.sha256(row["email"].strip().lower().encode()).hexdigest()
        for row in rows
        if row["segment_family"] == "rfm" and reachable(row)
    }
    with psycopg.connect(postgres.dsn) as con:
        table = set(con.execute("select contact_id, segment_key from e2e_membership").fetchall())
    assert table == {
        (row["contact_id"], row["segment_key"])
        for row in rows
        if row["segment_family"] in ("rfm", "lifecycle", "focus")
    }

    with duckdb.connect(str(warehouse), read_only=True) as con:
        runs = con.execute(
            "select destination, status, rows_sent, rows_failed from activation.sync_runs"
            " order by started_at"
        ).fetchall()
    by_destination: dict[str, list] = {}
    for destination, status, sent, failed in runs:
        by_destination.setdefault(destination, []).append((status, sent, failed))
    assert [s for s, _, _ in by_destination["esp"]] == ["failed", "failed"]
    assert all(sent == 0 and failed > 0 for _, sent, failed in by_destination["esp"])
    assert by_destination["crm"] == [("success", len(table), 0)]


def test_repository_definitions_have_an_asset_per_enabled_destination() -> None:
    graph = defs.resolve_asset_graph()
    config = load_config()
    keys = {activation_asset_key(d.name) for d in config.destinations if d.enabled}
    assert keys
    members = graph.get(dg.AssetKey(["activation_members"]))
    assert dg.AssetKey(["segment_membership"]) in members.parent_keys
    for key in keys:
        node = graph.get(key)
        assert node.group_name == ACTIVATION_GROUP
        assert dg.AssetKey(["activation_members"]) in node.parent_keys
        policy = node.assets_def.op.retry_policy
        assert policy is not None and policy.max_retries >= 1
        assert node.pools == {DUCKDB_POOL}
    job = defs.resolve_job_def(ACTIVATION_JOB_NAME)
    assert set(job.asset_layer.executable_asset_keys) == keys
    assert job.tags["segment_warehouse/duckdb"] == "writer"
    build = defs.resolve_job_def(BUILD_JOB_NAME)
    assert not keys & set(build.asset_layer.executable_asset_keys)
    assert defs.resolve_sensor_def("activation_after_build")
