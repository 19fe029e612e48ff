"""A sensor on the raw-data folder: a run whenever its files are added, changed or removed."""

import datetime as dt
import hashlib
import json
from pathlib import Path

import dagster as dg

from orchestration.dbt import build_run_config
from orchestration.jobs import segment_warehouse_build
from orchestration.partitions import partition_key
from orchestration.resources import raw_data_path

FileState = dict[str, list[int]]


def snapshot_folder(folder: Path) -> FileState:
    """{relative path: [size, mtime_ns]} of every file under folder (hidden files ignored)."""
    if not folder.is_dir():
        return {}
    state: FileState = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        stat = path.stat()
        state[relative.as_posix()] = [stat.st_size, stat.st_mtime_ns]
    return state


def changed_files(previous: FileState, current: FileState) -> list[str]:
    """Paths added, changed or removed between two snapshots."""
    return sorted(
        name for name in previous.keys() | current.keys() if previous.get(name) != current.get(name)
    )


@dg.sensor(
    job=segment_warehouse_build,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Rebuilds as of today (UTC) when files in SEGMENT_RAW_DATA_PATH change.",
)
def raw_data_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    folder = raw_data_path()
    current = snapshot_folder(folder)
    previous: FileState = json.loads(context.cursor) if context.cursor else {}
    changed = changed_files(previous, current)
    if not changed:
        return dg.SkipReason(f"no change in {folder}")
    cursor = json.dumps(current, sort_keys=True)
    if not current:
        return dg.SensorResult(skip_reason=f"{folder} has no files", cursor=cursor)
    day = dt.datetime.now(dt.UTC).date().isoformat()
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=hashlib.sha256(cursor.encode()).hexdigest()[:16],
                run_config=build_run_config(day),
                tags={"segment_warehouse/as_of_date": day},
                partition_key=partition_key(day),
            )
        ],
        cursor=cursor,
    )
