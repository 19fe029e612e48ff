"""A daily rebuild as of the scheduled day; the automation queue rebuilt every hour between."""

import datetime as dt
import os

import dagster as dg

from orchestration.dbt import build_run_config
from orchestration.jobs import automation_job, segment_warehouse_build
from orchestration.partitions import partition_key

# Cron and timezone of the daily build: SEGMENT_SCHEDULE_CRON (default 06:00) and
# SEGMENT_SCHEDULE_TIMEZONE (default UTC).
SCHEDULE_CRON = os.environ.get("SEGMENT_SCHEDULE_CRON", "0 6 * * *")
SCHEDULE_TIMEZONE = os.environ.get("SEGMENT_SCHEDULE_TIMEZONE", "UTC")
# Cron of the automation build (the queue as of each tick): SEGMENT_AUTOMATION_CRON (default every
# hour on the hour), in SEGMENT_SCHEDULE_TIMEZONE.
AUTOMATION_CRON = os.environ.get("SEGMENT_AUTOMATION_CRON", "0 * * * *")


@dg.schedule(
    job=segment_warehouse_build,
    cron_schedule=SCHEDULE_CRON,
    execution_timezone=SCHEDULE_TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Rebuilds the warehouse as of the scheduled day and publishes it.",
)
def daily_segments_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    day = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(
        run_key=day,
        run_config=build_run_config(day),
        tags={"segment_warehouse/as_of_date": day},
        partition_key=partition_key(day),
    )


def automation_moment(scheduled: dt.datetime) -> tuple[str, str]:
    """(as_of_date, automation_as_of) of a tick: its moment in UTC, to the second."""
    moment = scheduled.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    return moment.date().isoformat(), moment.isoformat(sep=" ")


@dg.schedule(
    job=automation_job,
    cron_schedule=AUTOMATION_CRON,
    execution_timezone=SCHEDULE_TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Rebuilds the automation queue (automation_* models) as of the tick's moment.",
)
def automation_hourly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    day, moment = automation_moment(context.scheduled_execution_time)
    return dg.RunRequest(
        run_key=f"automation {moment}",
        run_config=build_run_config(day, automation_as_of=moment),
        tags={"segment_warehouse/as_of_date": day, "segment_warehouse/automation_as_of": moment},
    )
