"""Spark local against DuckDB on the same machine, in one run (BENCHMARKS.md, "Spark").

Usage::

    .venv/bin/python -m benchmarks.bench_spark                    # the test store and 1M orders
    .venv/bin/python -m benchmarks.bench_spark --orders 100k      # one size

For each store (the test store: 2,000 contacts, seed 7, as `make dbt-test` builds it; a size in
orders: the cached stores of benchmarks/bench.py), each engine lands the files
(segment-warehouse-land) and runs the same `dbt build` (models, seeds, data tests; no unit
tests) from an empty warehouse, each step under /usr/bin/time -v (wall, CPU, peak RSS; for Spark
these two cover the dbt process only: /usr/bin/time does not see the JVM PySpark starts). DuckDB
first, then Spark, one after the other, nothing else running. Results: <out>/spark_results.json
and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from benchmarks.bench import (
    AS_OF,
    GB,
    PROJECT_DIR,
    dbt_executable,
    ensure_store,
    machine_info,
    parse_size,
    run_measured,
    size_label,
)

TEST_STORE = {"contacts": 2000, "seed": 7, "as_of": "2025-06-30"}


def test_store(root: Path) -> dict[str, Any]:
    from segment_warehouse import demo_store

    store = root / "stores" / "test_store"
    marker = store / "_bench_store.json"
    if not marker.is_file():
        shutil.rmtree(store, ignore_errors=True)
        rows = demo_store.generate(store, fmt="parquet", **TEST_STORE)
        marker.write_text(json.dumps({"rows": rows}))
    rows = json.loads(marker.read_text())["rows"]
    return {"path": str(store), "rows": rows, "as_of": TEST_STORE["as_of"]}


def run_engine(engine: str, store: Path, as_of: str, run_dir: Path) -> dict[str, Any]:
    """Landing, then dbt build, on one engine from an empty warehouse."""
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    env = dict(os.environ)
    env.update(
        {
            "DBT_TARGET": "spark" if engine == "spark" else "dev",
            "DBT_DUCKDB_PATH": str(run_dir / "warehouse.duckdb"),
            "SEGMENT_SPARK_DIR": str(run_dir / "spark"),
            "SEGMENT_RAW_DATA_PATH": str(store),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
    )
    land_bin = str(Path(sys.executable).parent / "segment-warehouse-land")
    steps = {
        "land": [land_bin, "--vars", json.dumps({"as_of_date": as_of})],
        "build": [
            dbt_executable(),
            "build",
            "--profiles-dir",
            str(PROJECT_DIR),
            "--project-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(run_dir / "target"),
            "--log-path",
            str(run_dir / "logs"),
            "--vars",
            json.dumps({"as_of_date": as_of}),
            "--exclude-resource-type",
            "unit_test",
        ],
    }
    result: dict[str, Any] = {"engine": engine}
    for name, command in steps.items():
        print(f"  {engine}: {name} ...", flush=True)
        measured = run_measured(
            command,
            time_file=run_dir / f"{name}.time",
            log_file=run_dir / f"{name}.log",
            env=env,
            timeout_s=3600,
        )
        result[name] = measured
        if measured["rc"] != 0:
            tail = (run_dir / f"{name}.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"{engine} {name} failed (exit {measured['rc']}):\n{tail}")
    runs = json.loads((run_dir / "target" / "run_results.json").read_text())["results"]
    result["nodes"] = len(runs)
    result["node_seconds"] = round(sum(node["execution_time"] for node in runs), 1)
    return result


def markdown(entries: list[dict[str, Any]]) -> str:
    lines = [
        "| store | orders | engine | landing (s) | dbt build (s) | total (s) | CPU (s)"
        " | peak RSS (GB) |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for entry in entries:
        for result in entry["engines"]:
            land, build = result["land"], result["build"]
            cpu = sum(
                (step.get("user_s") or 0) + (step.get("system_s") or 0) for step in (land, build)
            )
            rss = max(step.get("max_rss_bytes") or 0 for step in (land, build))
            lines.append(
                f"| {entry['store']} | {entry['orders']:,} | {result['engine']} |"
                f" {land['wall_s']:.1f} | {build['wall_s']:.1f} |"
                f" {land['wall_s'] + build['wall_s']:.1f} | {cpu:.0f} | {rss / GB:.2f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_spark", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", default="test,1M", help="test (the test store) and/or sizes")
    parser.add_argument("--out", default="bench-results", help="results and cached stores")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    entries = []
    for item in args.orders.split(","):
        if item.strip() == "test":
            store = test_store(out)
            label, as_of = "test store", store["as_of"]
        else:
            orders = parse_size(item.strip())
            store = ensure_store(out, orders)
            label, as_of = size_label(orders), AS_OF
        print(f"[{label}] {store['rows'].get('orders', 0):,} orders", flush=True)
        engines = [
            run_engine(engine, Path(store["path"]), as_of, out / "spark_runs" / f"{label}-{engine}")
            for engine in ("duckdb", "spark")
        ]
        entries.append(
            {"store": label, "orders": store["rows"].get("orders", 0), "engines": engines}
        )
    (out / "spark_results.json").write_text(
        json.dumps({"machine": machine_info(), "entries": entries}, indent=2, default=str)
    )
    print(markdown(entries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
