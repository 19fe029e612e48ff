"""The Dagster orchestration: definitions, builds, publishing, history, schedule and sensor.

Builds run in-process on small generated stores in temporary folders; the environment variables
that point dbt and the publisher at them are set with monkeypatch.
"""

import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_dbt import DbtCliResource

from benchmarks.bench import SCHEDULED_BUILD_ARGS
from orchestration.backfill import backfill, days_between
from orchestration.dbt import (
    AS_OF_DATE_ENV,
    DBT_ASSETS_NAME,
    SHOPIFY_TABLES,
    SegmentWarehouseTranslator,
    as_of_date_env,
    build_run_config,
    dbt_build_args,
    layer_of,
    prune_run_target_dirs,
    resolve_as_of_date,
)
from orchestration.definitions import defs
from orchestration.jobs import BUILD_JOB_NAME
from orchestration.partitions import PARTITIONS_START, partition_key
from orchestration.publishing import (
    PUBLISHED_MODELS,
    SERVING_DATABASE,
    customer_segments_not_empty,
)
from orchestration.resources import dbt_executable, dbt_project
from orchestration.schedules import daily_segments_schedule
from orchestration.sensors import changed_files, raw_data_sensor, snapshot_folder
from segment_warehouse.demo_store import generate

# Builds the dbt project: left out of `make quick` (pytest -m 'not e2e').
pytestmark = pytest.mark.e2e

DAY_1 = "2025-06-29"
DAY_2 = "2025-06-30"


def _schedule_tick(day: str) -> dg.RunRequest:
    when = dt.datetime.fromisoformat(day).replace(hour=6, tzinfo=dt.UTC)
    request = daily_segments_schedule(dg.build_schedule_context(scheduled_execution_time=when))
    assert isinstance(request, dg.RunRequest)
    return request


def _run(run_config: dict) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def(BUILD_JOB_NAME)
    return job.execute_in_process(
        run_config=run_config, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )


def _env(monkeypatch: pytest.MonkeyPatch, store: Path, warehouse: Path, serving: Path) -> None:
    # dagster-dbt's per-run dbt folders go to the temporary folder, not target/.
    monkeypatch.setenv("DBT_TARGET_PATH", str(warehouse.parent / "dbt-target"))
    monkeypatch.setenv("SEGMENT_RAW_DATA_PATH", str(store))
    monkeypatch.setenv("DBT_DUCKDB_PATH", str(warehouse))
    monkeypatch.setenv("SEGMENT_SERVING_DIR", str(serving))


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Two schedule ticks (DAY_1, DAY_2) built and published, with a BI reader held open on
    serving.duckdb during the second build."""
    root = tmp_path_factory.mktemp("orchestration")
    store, warehouse, serving = root / "store", root / "warehouse.duckdb", root / "serving"
    generate(store, contacts=1500, seed=3, as_of=DAY_2, fmt="parquet")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _env(monkeypatch, store, warehouse, serving)
        # as on a deployment, where target/ holds the parse of the project (prepare_dbt_project),
        # which dagster-dbt copies into each run's dbt folder
        DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()).cli(
            ["parse", "--quiet"], target_path=warehouse.parent / "dbt-target"
        ).wait()
        first = _run(_schedule_tick(DAY_1).run_config)
        assert first.success
        reader = duckdb.connect(str(serving / SERVING_DATABASE), read_only=True)
        before = reader.execute("select distinct as_of_date from customer_segments").fetchall()
        second = _run(_schedule_tick(DAY_2).run_config)
        after = reader.execute("select distinct as_of_date from customer_segments").fetchall()
        reader.close()
        yield {
            "root": root,
            "store": store,
            "warehouse": warehouse,
            "serving": serving,
            "first": first,
            "second": second,
            "reader_before": before,
            "reader_after": after,
        }


def test_definitions_load_with_an_asset_per_dbt_node() -> None:
    dg.Definitions.validate_loadable(defs)
    manifest = json.loads(dbt_project.manifest_path.read_text())
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    translator = SegmentWarehouseTranslator()
    nodes = [
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot")
    ]
    assert any(unique_id.endswith(".segment_membership_history") for unique_id in nodes)
    for unique_id in nodes:
        spec = translator.get_asset_spec(manifest, unique_id, dbt_project)
        assert spec.key in keys, unique_id
        assert graph.get(spec.key).group_name == layer_of(manifest["nodes"][unique_id])
    groups = {graph.get(key).group_name for key in keys}
    assert {"raw", "staging", "intermediate", "marts", "seeds", "serving"} <= groups
    # dbt tests are asset checks; a raw file is upstream of the staging model that reads it.
    check_names = {key.name for key in graph.asset_check_keys}
    assert "unique_customer_rfm_contact_id" in check_names
    # Every dbt data test is a check, those reading several models included (meta dagster.ref).
    data_tests = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "test"}
    assert "assert_focus_segments_follow_the_rules" in data_tests
    assert data_tests <= check_names, sorted(data_tests - check_names)
    assert "customer_segments_not_empty" in check_names
    # The raw files feed the base tables, which alone read them.
    contacts = graph.get(dg.AssetKey(["staging", "base_raw__contacts"]))
    assert dg.AssetKey(["raw", "contacts"]) in contacts.parent_keys
    staged = graph.get(dg.AssetKey(["staging", "stg_raw__contacts"]))
    assert dg.AssetKey(["staging", "base_raw__contacts"]) in staged.parent_keys
    # A shop's own tables (dbt source shopify, asset keys from meta.dagster) feed its base models.
    orders = graph.get(dg.AssetKey(["staging", "base_shopify__orders"]))
    assert dg.AssetKey(["shopify", "order"]) in orders.parent_keys
    assert graph.get(dg.AssetKey(["shopify", "order"])).group_name == "raw"
    source_keys = {
        tuple(node["meta"]["dagster"]["asset_key"])
        for node in manifest["sources"].values()
        if node["source_name"] == "shopify"
    }
    assert source_keys == {("shopify", table) for table in SHOPIFY_TABLES}
    # Static segments' frozen members: a described raw asset upstream of their staging model.
    frozen = dg.AssetKey(["static_segments", "static_segment_members"])
    assert graph.get(frozen).group_name == "raw"
    assert "segment-warehouse-freeze" in (graph.get(frozen).description or "")
    members = graph.get(dg.AssetKey(["staging", "stg_static_segments__members"]))
    assert frozen in members.parent_keys
    assert defs.resolve_schedule_def("daily_segments_schedule")
    assert defs.resolve_sensor_def("raw_data_sensor")
    job = defs.resolve_job_def(BUILD_JOB_NAME)
    assert job.tags["segment_warehouse/duckdb"] == "writer"


def test_dbt_build_args_leave_the_date_to_the_environment() -> None:
    # the date goes through SEGMENT_AS_OF_DATE, so --vars stays the same from day to day and dbt
    # reuses its last parse; the unit tests run in CI, not on the schedule
    assert dbt_build_args() == ["build", *SCHEDULED_BUILD_ARGS]
    # the benchmark's daily build runs what the schedule runs
    assert SCHEDULED_BUILD_ARGS == ["--exclude-resource-type", "unit_test"]
    assert dbt_build_args(unit_tests=True) == ["build"]
    args = dbt_build_args({"active_days": 60})
    assert args[:3] == ["build", "--vars", '{"active_days": 60}']
    with pytest.raises(ValueError, match="as_of_date"):
        dbt_build_args({"as_of_date": "2025-06-30"})
    assert resolve_as_of_date(None) == dt.datetime.now(dt.UTC).date().isoformat()
    assert resolve_as_of_date("2025-06-30") == "2025-06-30"
    with pytest.raises(ValueError):
        resolve_as_of_date("30/06/2025")
    before = os.environ.get(AS_OF_DATE_ENV)
    with as_of_date_env("2025-06-30"):
        assert os.environ[AS_OF_DATE_ENV] == "2025-06-30"
    assert os.environ.get(AS_OF_DATE_ENV) == before


def test_schedule_builds_as_of_the_scheduled_day() -> None:
    request = _schedule_tick(DAY_1)
    assert request.run_config == build_run_config(DAY_1)
    assert request.run_config["ops"][DBT_ASSETS_NAME]["config"]["as_of_date"] == DAY_1
    assert request.partition_key == DAY_1


def test_the_build_job_has_a_partition_per_day_up_to_today() -> None:
    job = defs.resolve_job_def(BUILD_JOB_NAME)
    keys = job.partitions_def.get_partition_keys()
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert keys[0] == PARTITIONS_START and keys[-1] == today
    assert DAY_1 in keys
    # the run of a partition is the build as of its day
    config = job.partitioned_config.get_run_config_for_partition_key(DAY_1)
    assert config == build_run_config(DAY_1)
    with pytest.raises(ValueError, match="SEGMENT_PARTITIONS_START"):
        partition_key("2011-12-09")


def test_a_three_day_backfill_runs_the_job_partitions(
    two_days: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """orchestration.backfill runs the build job's partitions (as the UI's "Launch backfill"
    does): one run per day, tagged with its partition and one backfill id, each day's history."""
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving"
    shutil.copy(two_days["warehouse"], warehouse)
    _env(monkeypatch, two_days["store"], warehouse, serving)
    instance = dg.DagsterInstance.ephemeral()
    days = days_between(dt.date(2025, 6, 26), dt.date(2025, 6, 28))
    run_ids = backfill(days, instance=instance)
    runs = [instance.get_run_by_id(run_id) for run_id in run_ids]
    assert [run.tags["dagster/partition"] for run in runs] == [day.isoformat() for day in days]
    assert len({run.tags["segment_warehouse/backfill"] for run in runs}) == 1
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
    assert not serving.exists()  # no publication unless asked
    with duckdb.connect(str(warehouse), read_only=True) as con:
        built = con.execute(
            "select distinct as_of_date from segment_membership_history order by 1"
        ).fetchall()
    assert [row[0].isoformat() for row in built] == [
        "2025-06-26", "2025-06-27", "2025-06-28", DAY_1, DAY_2,
    ]  # fmt: skip


def test_every_asset_materialises(two_days: dict) -> None:
    for result in (two_days["first"], two_days["second"]):
        assert result.success
        materialised = {event.asset_key for event in result.get_asset_materialization_events()}
        expected = set(defs.resolve_job_def(BUILD_JOB_NAME).asset_layer.executable_asset_keys)
        assert expected <= materialised, expected - materialised
        checks = result.get_asset_check_evaluations()
        assert checks and all(check.passed for check in checks)


def test_published_files_and_views(two_days: dict) -> None:
    serving: Path = two_days["serving"]
    for table in PUBLISHED_MODELS:
        assert (serving / f"{table}.parquet").exists()
    assert not list(serving.glob(".*.tmp"))
    with duckdb.connect(str(serving / SERVING_DATABASE), read_only=True) as con:
        for table in PUBLISHED_MODELS:
            sql = con.execute(
                "select sql from duckdb_views() where view_name = ?", [table]
            ).fetchone()[0]
            assert str((serving / f"{table}.parquet").resolve()) in sql
        with duckdb.connect(str(two_days["warehouse"]), read_only=True) as warehouse:
            expected = warehouse.execute("select count(*) from customer_segments").fetchone()
        assert con.execute("select count(*) from customer_segments").fetchone() == expected


def test_daily_builds_reuse_the_parse_of_the_project(two_days: dict) -> None:
    # the date comes from SEGMENT_AS_OF_DATE, not --vars, so a new day does not make dbt parse
    # every file again; the second day's build still computed everything as of DAY_2
    logs = sorted(
        (two_days["warehouse"].parent / "dbt-target").glob(f"{DBT_ASSETS_NAME}-*/dbt.log"),
        key=lambda path: path.stat().st_mtime,
    )
    assert logs
    # dbt rotates its log past 10 MB (dbt.log.1, ...): the parse is logged in the oldest part
    newest = "".join(path.read_text() for path in sorted(logs[-1].parent.glob("dbt.log*")))
    assert "Unable to do partial parsing" not in newest
    assert "Partial parsing enabled" in newest
    assert two_days["reader_after"] == [(dt.date(2025, 6, 30),)]


def test_reader_on_serving_database_does_not_block_a_rebuild(two_days: dict) -> None:
    assert two_days["second"].success
    assert two_days["reader_before"] == [(dt.date(2025, 6, 29),)]
    assert two_days["reader_after"] == [(dt.date(2025, 6, 30),)]


def test_history_keeps_each_day_with_entries_and_exits(two_days: dict) -> None:
    with duckdb.connect(str(two_days["warehouse"]), read_only=True) as con:
        days = con.execute(
            "select distinct as_of_date from segment_membership_history order by 1"
        ).fetchall()
        assert days == [(dt.date(2025, 6, 29),), (dt.date(2025, 6, 30),)]
        history = con.execute(
            "select as_of_date, contact_id, segment_family, segment from segment_membership_history"
        ).fetchall()
        changes = con.execute(
            "select as_of_date, previous_as_of_date, contact_id, segment_family, segment, "
            "change_type from segment_membership_changes"
        ).fetchall()
        today = con.execute(
            "select contact_id, segment_family, segment from segment_membership"
        ).fetchall()
    by_day: dict[dt.date, set] = {}
    for as_of_date, *membership in history:
        by_day.setdefault(as_of_date, set()).add(tuple(membership))
    day_1, day_2 = dt.date(2025, 6, 29), dt.date(2025, 6, 30)
    assert by_day[day_2] == set(today)
    entered = by_day[day_2] - by_day[day_1]
    exited = by_day[day_1] - by_day[day_2]
    assert entered and exited
    expected = {(day_2, day_1, *row, "entered") for row in entered} | {
        (day_2, day_1, *row, "exited") for row in exited
    }
    assert set(changes) == expected
    assert len(changes) == len(expected)


def test_failing_blocking_check_keeps_the_last_good_copy(
    two_days: dict,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving"
    shutil.copy(two_days["warehouse"], warehouse)
    shutil.copytree(two_days["serving"], serving)
    with duckdb.connect(str(warehouse)) as con:
        # Every contact twice: dbt's unique test on customer_segments.contact_id will fail.
        con.execute(
            "insert into intermediate.int_contacts_filtered_to_as_of "
            "select * from intermediate.int_contacts_filtered_to_as_of"
        )
    published = {path.name: path.read_bytes() for path in serving.iterdir()}
    _env(monkeypatch, two_days["store"], warehouse, serving)

    # Rebuild customer_segments from the corrupted table below it, then publish.
    job = defs.resolve_job_def(BUILD_JOB_NAME)
    instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(
        run_config=build_run_config(DAY_2),
        instance=instance,
        raise_on_error=False,
        asset_selection=[dg.AssetKey("customer_segments"), dg.AssetKey("published_segments")],
    )

    assert not result.success
    failures = [event for event in result.all_events if event.is_step_failure]
    assert any(
        "unique_customer_segments_contact_id" in str(event.event_specific_data)
        for event in failures
    )
    assert not any(
        event.asset_key == dg.AssetKey("published_segments")
        for event in result.get_asset_materialization_events()
    )
    assert {path.name: path.read_bytes() for path in serving.iterdir()} == published

    # Publishing alone afterwards (e.g. from the UI) still sees the failed check and refuses.
    alone = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        asset_selection=[dg.AssetKey("published_segments")],
    )
    assert not alone.success
    refusals = [str(e.event_specific_data) for e in alone.all_events if e.is_step_failure]
    assert any("unique_customer_segments_contact_id" in text for text in refusals), refusals
    assert {path.name: path.read_bytes() for path in serving.iterdir()} == published


def test_non_empty_check_fails_on_an_empty_mart(
    two_days: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(two_days["warehouse"], warehouse)
    monkeypatch.setenv("DBT_DUCKDB_PATH", str(warehouse))
    assert customer_segments_not_empty().passed
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from main.customer_segments")
    result = customer_segments_not_empty()
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert customer_segments_not_empty.check_specs  # blocking: see the check's definition
    assert all(spec.blocking for spec in customer_segments_not_empty.check_specs)


def test_sensor_requests_a_run_only_when_files_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    (store / "orders").mkdir(parents=True)
    (store / "contacts.csv").write_text("contact_id\n1\n")
    (store / "orders" / "part-0.csv").write_text("order_id\n")
    monkeypatch.setenv("SEGMENT_RAW_DATA_PATH", str(store))

    first = raw_data_sensor(dg.build_sensor_context())
    assert isinstance(first, dg.SensorResult) and len(first.run_requests) == 1
    cursor = first.cursor
    assert set(json.loads(cursor)) == {"contacts.csv", "orders/part-0.csv"}

    unchanged = raw_data_sensor(dg.build_sensor_context(cursor=cursor))
    assert isinstance(unchanged, dg.SkipReason)

    (store / "orders" / "part-1.csv").write_text("order_id\n7\n")
    added = raw_data_sensor(dg.build_sensor_context(cursor=cursor))
    assert isinstance(added, dg.SensorResult) and len(added.run_requests) == 1
    config = added.run_requests[0].run_config["ops"][DBT_ASSETS_NAME]["config"]
    assert config["as_of_date"] == dt.datetime.now(dt.UTC).date().isoformat()

    (store / "contacts.csv").write_text("contact_id\n1\n2\n")
    changed = raw_data_sensor(dg.build_sensor_context(cursor=added.cursor))
    assert isinstance(changed, dg.SensorResult) and len(changed.run_requests) == 1
    assert changed.run_requests[0].run_key != added.run_requests[0].run_key


def test_changed_files_lists_additions_changes_and_removals(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x")
    (tmp_path / ".hidden").write_text("x")
    state = snapshot_folder(tmp_path)
    assert list(state) == ["a.csv"]
    assert changed_files({}, state) == ["a.csv"]
    assert changed_files(state, state) == []
    assert changed_files(state, {"b.csv": [1, 2]}) == ["a.csv", "b.csv"]
    assert snapshot_folder(tmp_path / "missing") == {}


def test_old_run_target_dirs_are_pruned(tmp_path: Path) -> None:
    for index in range(4):
        folder = tmp_path / f"{DBT_ASSETS_NAME}-run{index}"
        folder.mkdir()
        os.utime(folder, (1_000_000 + index, 1_000_000 + index))
    (tmp_path / "other").mkdir()
    removed = prune_run_target_dirs(tmp_path / f"{DBT_ASSETS_NAME}-run3", keep=2)
    assert sorted(path.name for path in removed) == [
        f"{DBT_ASSETS_NAME}-run0",
        f"{DBT_ASSETS_NAME}-run1",
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "other",
        f"{DBT_ASSETS_NAME}-run2",
        f"{DBT_ASSETS_NAME}-run3",
    ]


def test_backfill_days_are_oldest_first() -> None:
    days = days_between(dt.date(2025, 6, 28), dt.date(2025, 6, 30))
    assert [day.isoformat() for day in days] == ["2025-06-28", "2025-06-29", DAY_2]
    with pytest.raises(ValueError):
        days_between(dt.date(2025, 6, 30), dt.date(2025, 6, 1))
