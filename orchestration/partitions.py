"""Daily partitions of the build job: one partition per as-of date.

The marts are not partitioned tables (each build computes them as of its date), but the history
tables gain that date's rows, so a day is the unit of a backfill. The partitions live on the job,
as a partitioned config: the run of partition D is the build as of D (its config says so and can
be edited in the launchpad), and Dagster's UI shows which days were built, launches a backfill of
a range of days, watches it and retries the failed ones. The schedule and the sensor request the
partition of their day, and `python -m orchestration.backfill` runs the same partitions.
"""

import datetime as dt
import os

import dagster as dg

from orchestration.dbt import build_run_config

# The first day a partition exists for: SEGMENT_PARTITIONS_START (default 2020-01-01). Set it
# earlier to backfill older history (the Online Retail sample is 2010-2011).
PARTITIONS_START = os.environ.get("SEGMENT_PARTITIONS_START", "2020-01-01")


@dg.daily_partitioned_config(start_date=PARTITIONS_START, timezone="UTC", end_offset=1)
def as_of_date_partitions(start: dt.datetime, _end: dt.datetime) -> dict:
    """The build as of the partition's day; end_offset=1 makes today a partition too (the daily
    schedule and the raw-data sensor build as of today)."""
    return build_run_config(start.date().isoformat())


def partition_key(day: dt.date | str) -> str:
    """The partition of an as-of date; a day outside the partitions is refused with the fix."""
    key = day if isinstance(day, str) else day.isoformat()
    keys = as_of_date_partitions.partitions_def
    if not keys.has_partition_key(key):
        raise ValueError(
            f"as-of date {key} is not a partition of the build job (days from {PARTITIONS_START} "
            "to today, UTC): set SEGMENT_PARTITIONS_START earlier to build older days"
        )
    return key
