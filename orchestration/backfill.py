"""Backfill past days from the command line: the build job's daily partitions, oldest first.

    DAGSTER_HOME=$PWD/.dagster_home .venv/bin/python -m orchestration.backfill \\
        --start 2025-06-01 --end 2025-06-30

The same partitions a backfill launched in Dagster's UI runs (job segment_warehouse_build,
Partitions tab, "Launch backfill"; see orchestration/partitions.py): each day is the run of its
partition, tagged with it and with one backfill id, so the UI shows the days built and the failed
ones to retry. Here they run in this process, one after the other, without the daemon; the UI
sends them through the run queue (one warehouse writer at a time).

Each day rebuilds the warehouse as of that day, which writes that day's rows of
segment_membership_history (and replaces them when the day was built before). The other marts
hold the last day built, so finish with today (the default --end) or run the build again.
Publishing (and the report drawn from it) is skipped unless --publish is given: the serving folder
keeps what BI sees.
Runs are recorded in the instance at DAGSTER_HOME when it is set.
"""

import argparse
import datetime as dt
import os
import uuid
from collections.abc import Sequence

import dagster as dg

from orchestration.jobs import BUILD_JOB_NAME
from orchestration.partitions import partition_key


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every day from start to end, both included, oldest first."""
    if end < start:
        raise ValueError(f"--end {end} is before --start {start}")
    return [start + dt.timedelta(days=offset) for offset in range((end - start).days + 1)]


def backfill(
    days: Sequence[dt.date], publish: bool = False, instance: dg.DagsterInstance | None = None
) -> list[str]:
    """Run each day's partition in turn; stop at the first failure. Returns the run ids."""
    from orchestration.definitions import defs
    from orchestration.publishing import published_segments
    from orchestration.report import segment_report

    job = defs.resolve_job_def(BUILD_JOB_NAME)
    keys = [partition_key(day) for day in days]  # every day checked before the first build
    if instance is None and os.environ.get("DAGSTER_HOME"):
        instance = dg.DagsterInstance.get()
    backfill_id = f"cli-{uuid.uuid4().hex[:8]}"
    selection = None
    if not publish:
        # neither the publication nor the report drawn from it
        skipped = published_segments.keys | segment_report.keys
        selection = [key for key in job.asset_layer.executable_asset_keys if key not in skipped]
    run_ids = []
    for day, key in zip(days, keys, strict=True):
        result = job.execute_in_process(
            partition_key=key,
            instance=instance,
            raise_on_error=False,
            asset_selection=selection,
            tags={
                "segment_warehouse/as_of_date": key,
                "segment_warehouse/backfill": backfill_id,
            },
        )
        run_ids.append(result.run_id)
        status = "ok" if result.success else "FAILED"
        print(f"{day.isoformat()}: {status} (run {result.run_id})", flush=True)
        if not result.success:
            raise SystemExit(f"build as of {day.isoformat()} failed; later days were not built")
    return run_ids


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", required=True, type=dt.date.fromisoformat, help="YYYY-MM-DD")
    today = dt.datetime.now(dt.UTC).date()
    parser.add_argument("--end", type=dt.date.fromisoformat, default=today, help="default today")
    parser.add_argument("--publish", action="store_true", help="also publish after each day")
    args = parser.parse_args(argv)
    backfill(days_between(args.start, args.end), publish=args.publish)


if __name__ == "__main__":
    main()
