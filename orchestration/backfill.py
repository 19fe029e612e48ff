"""Backfill past days: one build per day, oldest first, each with its own as_of_date.

    DAGSTER_HOME=$PWD/.dagster_home .venv/bin/python -m orchestration.backfill \\
        --start 2025-06-01 --end 2025-06-30

Each day rebuilds the warehouse as of that day, which writes that day's rows of
segment_membership_history (and replaces them when the day was built before). The other marts
hold the last day built, so finish with today (the default --end) or run the build again.
Publishing is skipped unless --publish is given: the serving folder keeps what BI sees.
Runs are recorded in the instance at DAGSTER_HOME when it is set.
"""

import argparse
import datetime as dt
import os
from collections.abc import Sequence

import dagster as dg

from orchestration.dbt import build_run_config
from orchestration.jobs import BUILD_JOB_NAME


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every day from start to end, both included, oldest first."""
    if end < start:
        raise ValueError(f"--end {end} is before --start {start}")
    return [start + dt.timedelta(days=offset) for offset in range((end - start).days + 1)]


def backfill(days: Sequence[dt.date], publish: bool = False) -> list[str]:
    """Build each day in turn; stop at the first failure. Returns the run ids."""
    from orchestration.definitions import defs
    from orchestration.publishing import published_segments

    job = defs.resolve_job_def(BUILD_JOB_NAME)
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
    selection = None
    if not publish:
        selection = [
            key
            for key in job.asset_layer.executable_asset_keys
            if key not in published_segments.keys
        ]
    run_ids = []
    for day in days:
        result = job.execute_in_process(
            run_config=build_run_config(day.isoformat()),
            instance=instance,
            raise_on_error=False,
            asset_selection=selection,
            tags={
                "segment_warehouse/as_of_date": day.isoformat(),
                "segment_warehouse/backfill": "1",
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
