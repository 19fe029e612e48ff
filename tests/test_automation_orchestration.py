"""The hourly automation job and its schedule: the definitions load, a tick becomes a run of the
automation models only as of the tick's moment, under the writer tag, and the run on a copy of the
demo warehouse issues the steps due by then without touching the other marts."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import dagster as dg
import pytest
from conftest import query
from dagster_dbt import DbtCliResource

from orchestration.dbt import (
    AUTOMATION_AS_OF_ENV,
    DBT_ASSETS_NAME,
    as_of_date_env,
    resolve_automation_as_of,
)
from orchestration.definitions import defs
from orchestration.jobs import AUTOMATION_JOB_NAME
from orchestration.resources import WRITER_TAGS, dbt_executable, dbt_project
from orchestration.schedules import AUTOMATION_CRON, automation_hourly_schedule

AUTOMATION_ASSETS = {
    "activation_automation_steps",
    "automation_entries",
    "automation_held",
    "automation_issued",
    "automation_queue",
    "intermediate/int_automation_carts_qualified",
    "intermediate/int_automation_entries_collected",
    "intermediate/int_automation_orders_sequenced",
    "intermediate/int_automation_steps_matched",
    "intermediate/int_automation_steps_scheduled",
    "seeds/automation_steps",
}


def _tick(when: dt.datetime) -> dg.RunRequest:
    request = automation_hourly_schedule(dg.build_schedule_context(scheduled_execution_time=when))
    assert isinstance(request, dg.RunRequest)
    return request


def test_the_automation_job_builds_only_the_automation_models() -> None:
    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def(AUTOMATION_JOB_NAME)
    keys = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    assert keys == AUTOMATION_ASSETS
    assert WRITER_TAGS.items() <= job.tags.items()
    schedule = defs.resolve_schedule_def("automation_hourly_schedule")
    assert schedule.cron_schedule == AUTOMATION_CRON == "0 * * * *"
    assert schedule.job_name == AUTOMATION_JOB_NAME


def test_a_tick_builds_as_of_its_moment() -> None:
    request = _tick(dt.datetime(2025, 6, 30, 14, 0, tzinfo=dt.UTC))
    config = request.run_config["ops"][DBT_ASSETS_NAME]["config"]
    assert config == {"as_of_date": "2025-06-30", "automation_as_of": "2025-06-30 14:00:00"}
    assert request.run_key == "automation 2025-06-30 14:00:00"
    # a tick in another time zone is the same UTC moment
    paris = dt.timezone(dt.timedelta(hours=2))
    later = _tick(dt.datetime(2025, 7, 1, 1, 0, tzinfo=paris))
    assert later.run_config["ops"][DBT_ASSETS_NAME]["config"] == {
        "as_of_date": "2025-06-30",
        "automation_as_of": "2025-06-30 23:00:00",
    }


def test_the_automation_moment_is_checked_and_passed_to_dbt() -> None:
    assert resolve_automation_as_of("2025-06-30", None) is None
    assert resolve_automation_as_of("2025-06-30", "2025-06-30T14:00Z") == "2025-06-30 14:00:00"
    with pytest.raises(ValueError, match="not on the as-of date"):
        resolve_automation_as_of("2025-06-30", "2025-07-01 00:00")
    with as_of_date_env("2025-06-30", "2025-06-30 14:00:00"):
        assert os.environ[AUTOMATION_AS_OF_ENV] == "2025-06-30 14:00:00"
    with as_of_date_env("2025-06-30"):
        assert AUTOMATION_AS_OF_ENV not in os.environ


@pytest.mark.e2e
def test_an_hourly_run_issues_what_is_due_and_leaves_the_other_marts(
    demo_store: Path, demo_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_warehouse, warehouse)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt-target"))
    monkeypatch.setenv("SEGMENT_RAW_DATA_PATH", str(demo_store))
    monkeypatch.setenv("DBT_DUCKDB_PATH", str(warehouse))
    monkeypatch.setenv("SEGMENT_SERVING_DIR", str(tmp_path / "serving"))
    DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()).cli(
        ["parse", "--quiet"], target_path=tmp_path / "dbt-target"
    ).wait()
    issued_before = query(warehouse, "select count(*) from main.automation_issued")[0][0]

    # the first hour after the demo day: the day-based steps due at 00:00 of 2025-07-01
    request = _tick(dt.datetime(2025, 7, 1, 1, 0, tzinfo=dt.UTC))
    result = defs.resolve_job_def(AUTOMATION_JOB_NAME).execute_in_process(
        run_config=request.run_config,
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert result.success
    materialised = {
        event.asset_key.to_user_string()
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
    }
    assert materialised == AUTOMATION_ASSETS

    moments = query(warehouse, "select distinct issued_at from main.automation_queue")
    queued = query(warehouse, "select count(*) from main.automation_queue")[0][0]
    issued_after = query(warehouse, "select count(*) from main.automation_issued")[0][0]
    assert queued > 0
    assert moments == [(dt.datetime(2025, 7, 1, 1, 0),)]
    assert issued_after == issued_before + queued
    duplicates = query(
        warehouse,
        "select count(*) from (select contact_id, scenario, step, trigger_id"
        " from main.automation_issued group by all having count(*) > 1)",
    )
    assert duplicates == [(0,)]
    # the other marts keep the daily build's date
    assert query(warehouse, "select distinct as_of_date from main.customer_segments") == [
        (dt.date(2025, 6, 30),)
    ]
