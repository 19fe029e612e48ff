"""A daily rebuild as of the scheduled day."""

import os

import dagster as dg

from orchestration.dbt import build_run_config
from orchestration.jobs import segment_warehouse_build

# Cron and timezone of the daily build: SEGMENT_SCHEDULE_CRON (default 06:00) and
# SEGMENT_SCHEDULE_TIMEZONE (default UTC).
SCHEDULE_CRON = os.environ.get("SEGMENT_SCHEDULE_CRON", "0 6 * * *")
SCHEDULE_TIMEZONE = os.environ.get("SEGMENT_SCHEDULE_TIMEZONE", "UTC")


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
    )
