"""Scale benchmark: the whole ``dbt build`` on DuckDB, and the pandas reference for the RFM part.

Usage::

    .venv/bin/python -m benchmarks.bench                      # 100k, 1M and 10M orders
    .venv/bin/python -m benchmarks.bench --sizes small        # 100k orders only (quick)
    .venv/bin/python -m benchmarks.bench --orders 1M,10M --out bench-results/ --keep

For each size (a number of orders; the demo store makes about 9.85 orders per contact):

1. a demo store is generated with ``segment_warehouse.demo_store.generate`` (parquet) and cached
   under ``<out>/stores/<size>`` (reused while its parameters and the generator's source match);
2. the whole ``dbt build`` runs in a subprocess wrapped in ``/usr/bin/time -v`` (wall time and
   peak RSS of dbt + DuckDB), on a fresh DuckDB file and a per-run ``--target-path``; per-node
   ``execution_time`` comes from that run's ``run_results.json``;
3. the pandas reference (``tests/reference/segments.py``: ``load_raw_contract`` +
   ``compute_segments``) runs on the same store in a subprocess wrapped in ``/usr/bin/time -v``,
   under a timeout and an RSS cap (a polling watchdog), so that a reference too slow or too big
   is recorded as such instead of hanging the benchmark.

Results go to ``<out>/results.json`` (merged with earlier sizes, keyed by size) and a Markdown
summary is printed. The DuckDB files are deleted after measuring unless ``--keep``; stores larger
than ``--store-cache-limit-gb`` are deleted too unless ``--keep``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
TIME_BIN = "/usr/bin/time"

ORDERS_PER_CONTACT = 9.85
SEED = 42
AS_OF = "2025-06-30"

DEFAULT_SIZES = (100_000, 1_000_000, 10_000_000)
SIZE_PRESETS = {"small": (100_000,), "full": DEFAULT_SIZES}

MARTS = (
    "customer_rfm",
    "customer_lifecycle",
    "customer_focus_segments",
    "customer_segments",
    "segment_membership",
    "data_quality_issues",
)
# The path from the staged raw contract to customer_rfm (the unioned models are views).
RFM_NODES = (
    "stg_raw__contacts",
    "stg_raw__orders",
    "stg_raw__refunds",
    "int_orders_aggregated_to_contacts",
    "int_contacts_filtered_to_as_of",
    "int_contacts_scored_rfm",
    "customer_rfm",
)

# Targets at 10M orders on 2 cores.
TARGET_ORDERS = 10_000_000
TARGET_BUILD_S = 60.0
TARGET_PEAK_GB = 4.0
TARGET_RATIO = 1.0

GB = 1e9  # decimal gigabytes throughout

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def parse_size(text: str) -> int:
    """``100000``, ``100k``, ``1M``, ``1.5m``, ``10_000_000`` -> number of orders."""
    value = text.strip().lower().replace("_", "")
    factor = 1
    if value.endswith("k"):
        factor, value = 1_000, value[:-1]
    elif value.endswith("m"):
        factor, value = 1_000_000, value[:-1]
    number = int(round(float(value) * factor))
    if number <= 0:
        raise ValueError(f"size must be > 0: {text!r}")
    return number


def size_label(orders: int) -> str:
    if orders >= 1_000_000 and orders % 1_000_000 == 0:
        return f"{orders // 1_000_000}M"
    if orders >= 1_000 and orders % 1_000 == 0:
        return f"{orders // 1_000}k"
    return str(orders)


def contacts_for(orders: int) -> int:
    return max(1, round(orders / ORDERS_PER_CONTACT))


def folder_bytes(path: Path) -> int:
    if not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def remove_path(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


def fmt_num(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def mem_total_bytes() -> int:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def load_average() -> str | None:
    """The 1/5/15-minute load averages: other work on the machine skews the timings."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return None


def machine_info() -> dict[str, Any]:
    cpu_model = None
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    return {
        "nproc": os.cpu_count()
        if not hasattr(os, "sched_getaffinity")
        else len(os.sched_getaffinity(0)),
        "mem_total_gb": round(mem_total_bytes() / GB, 1),
        "cpu_model": cpu_model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": version("duckdb"),
        "dbt_core": version("dbt-core"),
        "dbt_duckdb": version("dbt-duckdb"),
        "pandas": version("pandas"),
        "pyarrow": version("pyarrow"),
        "numpy": version("numpy"),
    }


def parse_time_v(path: Path) -> dict[str, Any]:
    """The interesting lines of ``/usr/bin/time -v -o path``."""
    out: dict[str, Any] = {}
    if not path.is_file():
        return out
    text = path.read_text(errors="replace")
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if match:
        out["max_rss_bytes"] = int(match.group(1)) * 1024
    match = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text)
    if match:
        seconds = 0.0
        for part in match.group(1).split(":"):
            seconds = seconds * 60 + float(part)
        out["elapsed_s"] = seconds
    for key, label in (("user_s", "User time (seconds)"), ("system_s", "System time (seconds)")):
        match = re.search(re.escape(label) + r": ([\d.]+)", text)
        if match:
            out[key] = float(match.group(1))
    match = re.search(r"Percent of CPU this job got: (\d+)%", text)
    if match:
        out["cpu_percent"] = int(match.group(1))
    match = re.search(r"Exit status: (-?\d+)", text)
    if match:
        out["exit_status"] = int(match.group(1))
    if "Command terminated by signal" in text:
        out["signal"] = text.split("Command terminated by signal", 1)[1].split()[0]
    return out


def _tree_rss_bytes(root: int) -> int:
    """Sum of VmRSS over ``root`` and its descendants (read from /proc)."""
    total, stack, seen = 0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as handle:
                    stack.extend(int(c) for c in handle.read().split())
        except (OSError, ValueError):
            continue
    return total


def cpu_busy_seconds() -> float | None:
    """Busy CPU seconds of the whole machine so far (all processes, all cores), from /proc/stat."""
    try:
        with open("/proc/stat") as handle:
            fields = handle.readline().split()[1:]
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal ...; busy = all but idle and iowait
    ticks = [int(v) for v in fields[:8]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


def run_measured(
    command: list[str],
    *,
    time_file: Path,
    log_file: Path,
    env: dict[str, str] | None = None,
    timeout_s: float | None = None,
    max_rss_bytes: int | None = None,
) -> dict[str, Any]:
    """Runs ``command`` under ``/usr/bin/time -v`` in its own process group, with a watchdog.

    Returns the exit code, wall time (ours and time's), peak RSS (time's, else the watchdog's),
    and whether it was stopped for the timeout or the RSS cap.
    """
    full = [TIME_BIN, "-v", "-o", str(time_file), *command]
    state: dict[str, Any] = {"killed_for": None, "polled_peak_rss_bytes": 0}
    busy_before = cpu_busy_seconds()
    start = time.perf_counter()
    with open(log_file, "wb") as log:
        proc = subprocess.Popen(
            full,
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stop = threading.Event()

        def kill(reason: str) -> None:
            if state["killed_for"] is None:
                state["killed_for"] = reason
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        def watch() -> None:
            while not stop.wait(0.25):
                rss = _tree_rss_bytes(proc.pid)
                state["polled_peak_rss_bytes"] = max(state["polled_peak_rss_bytes"], rss)
                if max_rss_bytes is not None and rss > max_rss_bytes:
                    kill("memory_limit")
                if timeout_s is not None and time.perf_counter() - start > timeout_s:
                    kill("timeout")

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            rc = proc.wait()
        except KeyboardInterrupt:
            kill("interrupted")
            proc.wait()
            raise
        finally:
            stop.set()
            watcher.join()
    wall = time.perf_counter() - start
    busy_after = cpu_busy_seconds()
    timing = parse_time_v(time_file)
    # CPU time other processes used meanwhile: they compete for the same cores
    others_cpu_s = None
    if busy_before is not None and busy_after is not None and "user_s" in timing:
        own = timing["user_s"] + timing.get("system_s", 0.0)
        others_cpu_s = round(max(0.0, busy_after - busy_before - own), 1)
    return {
        "rc": rc,
        "wall_s": round(wall, 3),
        "time_elapsed_s": timing.get("elapsed_s"),
        "user_s": timing.get("user_s"),
        "system_s": timing.get("system_s"),
        "cpu_percent": timing.get("cpu_percent"),
        "max_rss_bytes": timing.get("max_rss_bytes") or state["polled_peak_rss_bytes"] or None,
        "max_rss_source": "time -v" if timing.get("max_rss_bytes") else "proc polling",
        "signal": timing.get("signal"),
        "killed_for": state["killed_for"],
        "others_cpu_s": others_cpu_s,
    }


# --------------------------------------------------------------------------------------------
# Stores
# --------------------------------------------------------------------------------------------


def generator_fingerprint() -> str:
    source = PROJECT_DIR / "segment_warehouse" / "demo_store.py"
    return hashlib.sha256(source.read_bytes()).hexdigest()[:16]


def ensure_store(root: Path, orders: int) -> dict[str, Any]:
    """The cached store for ``orders`` (generated when missing or stale)."""
    label = size_label(orders)
    store = root / "stores" / label
    marker = store / "_bench_store.json"
    params = {
        "orders_target": orders,
        "contacts": contacts_for(orders),
        "seed": SEED,
        "as_of": AS_OF,
        "fmt": "parquet",
        "generator_sha256": generator_fingerprint(),
    }
    if marker.is_file():
        cached = json.loads(marker.read_text())
        if cached.get("params") == params:
            cached["cached"] = True
            cached["path"] = str(store)
            return cached
        print(f"[{label}] cached store is stale (parameters or generator changed): regenerating")

    from segment_warehouse import demo_store

    remove_path(store)
    store.mkdir(parents=True)
    print(f"[{label}] generating {params['contacts']:,} contacts into {store} ...", flush=True)
    start = time.perf_counter()
    rows = demo_store.generate(store, params["contacts"], seed=SEED, as_of=AS_OF, fmt="parquet")
    seconds = time.perf_counter() - start
    info = {
        "params": params,
        "rows": rows,
        "generate_s": round(seconds, 2),
        "bytes": folder_bytes(store),
    }
    marker.write_text(json.dumps(info, indent=2))
    print(
        f"[{label}] generated {rows.get('orders', 0):,} orders in {seconds:.1f} s "
        f"({info['bytes'] / GB:.2f} GB)",
        flush=True,
    )
    info["cached"] = False
    info["path"] = str(store)
    return info


# --------------------------------------------------------------------------------------------
# dbt build
# --------------------------------------------------------------------------------------------


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("dbt")
    if not found:
        raise SystemExit("dbt not found next to the Python interpreter nor on PATH")
    return found


def node_name(unique_id: str) -> str:
    parts = unique_id.split(".")
    if parts[0] == "test" and len(parts) >= 4:
        return parts[2]
    return parts[-1]


def summarize_run_results(path: Path, top: int) -> dict[str, Any]:
    data = json.loads(path.read_text())
    nodes = []
    for result in data.get("results", []):
        unique_id = result.get("unique_id", "")
        nodes.append(
            {
                "unique_id": unique_id,
                "name": node_name(unique_id),
                "resource_type": unique_id.split(".", 1)[0],
                "status": result.get("status"),
                "execution_time_s": round(float(result.get("execution_time") or 0.0), 3),
                "rows_affected": (result.get("adapter_response") or {}).get("rows_affected"),
            }
        )
    return summarize_nodes(nodes, float(data.get("elapsed_time") or 0.0), top)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LOG_LINE = re.compile(
    r"^(\d\d):(\d\d):(\d\d)\s+\d+ of \d+ (START|OK|PASS|FAIL|WARN|ERROR|SKIP)\b(.*)$"
)
_LOG_TIME = re.compile(r"\[[^\]]* in ([\d.]+)s\]")
_LOG_TAIL = re.compile(r"\s*\[[^\]]*\]\s*$")


def parse_dbt_log(path: Path, ended_at: float | None = None) -> list[dict[str, Any]]:
    """Per-node times from dbt's console log, for a build stopped before run_results.json.

    Nodes started but not finished get the time from their START line to ``ended_at`` (epoch
    seconds when the build stopped; default now; a lower bound of their time) and the status
    ``running when stopped``. Log times are local wall-clock times (hh:mm:ss).
    """
    end = time.localtime(ended_at)
    now_seconds = end.tm_hour * 3600 + end.tm_min * 60 + end.tm_sec
    started: dict[str, tuple[int, str]] = {}
    nodes: list[dict[str, Any]] = []
    last_seconds = 0
    for raw in path.read_text(errors="replace").splitlines():
        line = _ANSI.sub("", raw).strip()
        match = _LOG_LINE.match(line)
        if not match:
            continue
        hh, mm, ss, word, rest = match.groups()
        seconds = int(hh) * 3600 + int(mm) * 60 + int(ss)
        if seconds < last_seconds - 43200:  # past midnight
            seconds += 86400
        last_seconds = seconds
        label = _LOG_TAIL.sub("", rest).rstrip(" .").split()
        if not label:
            continue
        full_name = label[-1]
        name = full_name if "::" in full_name else full_name.split(".")[-1]
        kind = "model" if "model" in label else "seed" if "seed" in label else "test"
        if "unit_test" in label or "::" in full_name:
            kind = "unit_test"
        if word == "START":
            started[full_name] = (seconds, kind)
            continue
        timing = _LOG_TIME.search(rest)
        started.pop(full_name, None)
        nodes.append(
            {
                "unique_id": f"{kind}.{full_name}",
                "name": name,
                "resource_type": kind,
                "status": {"OK": "success", "PASS": "pass"}.get(word, word.lower()),
                "execution_time_s": float(timing.group(1)) if timing else 0.0,
                "rows_affected": None,
            }
        )
    if now_seconds < last_seconds - 43200:
        now_seconds += 86400
    end_seconds = max(now_seconds, last_seconds)
    for full_name, (seconds, kind) in started.items():
        nodes.append(
            {
                "unique_id": f"{kind}.{full_name}",
                "name": full_name.split(".")[-1],
                "resource_type": kind,
                "status": "running when stopped",
                "execution_time_s": float(end_seconds - seconds),
                "rows_affected": None,
            }
        )
    return nodes


def summarize_nodes(nodes: list[dict[str, Any]], elapsed_s: float, top: int) -> dict[str, Any]:
    models = {n["name"]: n for n in nodes if n["resource_type"] == "model"}
    by_type: dict[str, dict[str, float]] = {}
    for node in nodes:
        entry = by_type.setdefault(node["resource_type"], {"count": 0, "seconds": 0.0})
        entry["count"] += 1
        entry["seconds"] = round(entry["seconds"] + node["execution_time_s"], 3)
    rfm_nodes = {name: models[name]["execution_time_s"] for name in RFM_NODES if name in models}
    failures = [
        {"name": n["name"], "unique_id": n["unique_id"], "status": n["status"]}
        for n in nodes
        if n["status"] in ("error", "fail", "runtime error", "running when stopped")
    ]
    return {
        "dbt_elapsed_s": round(elapsed_s, 3) if elapsed_s else None,
        "node_count": len(nodes),
        "nodes_seconds_sum": round(sum(n["execution_time_s"] for n in nodes), 3),
        "by_type": by_type,
        "failures": failures,
        "marts": {m: (models[m]["execution_time_s"] if m in models else None) for m in MARTS},
        "rfm_nodes": rfm_nodes,
        "rfm_nodes_missing": [name for name in RFM_NODES if name not in models],
        "rfm_part_s": round(sum(rfm_nodes.values()), 3),
        "slowest": sorted(nodes, key=lambda n: n["execution_time_s"], reverse=True)[:top],
        "rows": {m: models[m]["rows_affected"] for m in (*RFM_NODES, *MARTS) if m in models},
    }


def dbt_env(db_file: Path, store: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["DBT_DUCKDB_PATH"] = str(db_file)
    env["SEGMENT_RAW_DATA_PATH"] = str(store)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return env


def profiles_dir_for(run_dir: Path, memory_limit: str | None) -> str:
    """``.`` (the project's profiles.yml), or a copy of it with DuckDB's ``memory_limit`` set."""
    if not memory_limit:
        return "."
    import yaml

    profiles = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())
    for profile in profiles.values():
        for output in (profile or {}).get("outputs", {}).values():
            if output.get("type") == "duckdb":
                output.setdefault("settings", {})["memory_limit"] = memory_limit
    folder = run_dir / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profiles.yml").write_text(yaml.safe_dump(profiles, sort_keys=False, width=1000))
    return str(folder)


def run_dbt(
    run_dir: Path,
    store: Path,
    name: str,
    dbt_args: list[str],
    top: int,
    timeout_s: float,
    profiles_dir: str = ".",
    as_of: str = AS_OF,
    reuse_parse_from: Path | None = None,
) -> dict[str, Any]:
    """``dbt <dbt_args>`` on ``run_dir/warehouse.duckdb``, target path ``run_dir/target_<name>``,
    as of ``as_of`` (SEGMENT_AS_OF_DATE, as the schedule passes it). With ``reuse_parse_from`` (an
    earlier run's target folder), its ``partial_parse.msgpack`` is copied in first, as dagster-dbt
    does for each run and as a plain ``dbt build`` finds it in target/."""
    db_file = run_dir / "warehouse.duckdb"
    target = run_dir / f"target_{name}"
    remove_path(target)
    if reuse_parse_from is not None and (reuse_parse_from / "partial_parse.msgpack").is_file():
        target.mkdir(parents=True)
        shutil.copy(reuse_parse_from / "partial_parse.msgpack", target / "partial_parse.msgpack")
    env = dbt_env(db_file, store)
    env["SEGMENT_AS_OF_DATE"] = as_of
    landing = None
    if dbt_args[:1] == ["build"]:
        # the raw files are landed first (segment-warehouse-land), as make demo and Dagster do
        landing = run_measured(
            [str(Path(dbt_executable()).with_name("segment-warehouse-land"))],
            time_file=run_dir / f"time_land_{name}.txt",
            log_file=run_dir / f"land_{name}.log",
            env=env,
            timeout_s=timeout_s,
        )
    base = [dbt_executable(), *dbt_args[:1], "--profiles-dir", profiles_dir, "--project-dir", "."]
    command = [
        *base,
        *dbt_args[1:],
        "--target-path",
        str(target),
        "--log-path",
        str(run_dir / f"logs_{name}"),
    ]
    log = run_dir / f"dbt_{name}.log"
    measured = run_measured(
        command,
        time_file=run_dir / f"time_dbt_{name}.txt",
        log_file=log,
        env=env,
        timeout_s=timeout_s,
    )
    shown = [f"SEGMENT_AS_OF_DATE={as_of}", "dbt", *command[1:]]
    result: dict[str, Any] = {
        "command": " ".join(shown),
        "partial_parse": reuse_parse_from is not None,
        "threads": env.get("DBT_THREADS", "2 (profile default)"),
        **measured,
        "duckdb_file_bytes": folder_bytes(db_file),
        "log": str(log),
    }
    if landing is not None:
        result["landing"] = {key: landing.get(key) for key in ("rc", "wall_s", "max_rss_bytes")}
    run_results = target / "run_results.json"
    if run_results.is_file():
        result.update(summarize_run_results(run_results, top))
    else:
        result["error"] = f"no run_results.json (rc={measured['rc']}); see {log}"
        if log.is_file():
            # stopped (timeout, memory): per-node times from the console log instead
            ended_at = (run_dir / f"time_dbt_{name}.txt").stat().st_mtime
            result.update(summarize_nodes(parse_dbt_log(log, ended_at), 0.0, top))
            result["nodes_from"] = "dbt console log (no run_results.json)"
    return result


def run_dbt_build(
    run_dir: Path, store: Path, top: int, timeout_s: float, profiles_dir: str = "."
) -> dict[str, Any]:
    """The whole ``dbt build`` on a fresh DuckDB file."""
    db_file = run_dir / "warehouse.duckdb"
    for stale in (db_file, Path(f"{db_file}.wal"), Path(f"{db_file}.tmp")):
        remove_path(stale)
    return run_dbt(run_dir, store, "build", ["build"], top, timeout_s, profiles_dir)


def run_rfm_isolated(
    run_dir: Path, store: Path, timeout_s: float, profiles_dir: str = "."
) -> dict[str, Any]:
    """Re-runs only the RFM-part models (on the built database), with nothing else competing for
    the 2 cores: the same models as in the build, without the contention of parallel nodes."""
    select = ["--select", " ".join(RFM_NODES)]
    result = run_dbt(
        run_dir, store, "rfm_only", ["run", *select], len(RFM_NODES), timeout_s, profiles_dir
    )
    keep = ("command", "rc", "wall_s", "max_rss_bytes", "dbt_elapsed_s", "rfm_part_s")
    return {k: result.get(k) for k in (*keep, "rfm_nodes", "failures", "error") if k in result}


DAY2 = "2025-07-01"
#: What the daily schedule adds to ``dbt build`` (orchestration.dbt.dbt_build_args): the unit tests
#: test SQL logic on fixed inputs and run in CI, not on every scheduled build.
SCHEDULED_BUILD_ARGS = ["--exclude-resource-type", "unit_test"]
#: The day-2 export: for each entity, new rows copied from the last day of the store, with new
#: keys and timestamps one day later (orders and their lines, events, carts, new contacts).
DAY2_FILES = {
    "contacts": "select * replace ('D2-' || contact_id as contact_id, created_at + interval 1 day"
    " as created_at) from src where created_at >= timestamp '{as_of}'",
    "orders": "select * replace ('D2-' || order_id as order_id, ordered_at + interval 1 day"
    " as ordered_at) from src where ordered_at >= timestamp '{as_of}'",
    "order_items": "select * replace ('D2-' || order_id as order_id) from src semi join ("
    "select order_id from read_parquet('{store}/orders/part-*.parquet')"
    " where ordered_at >= timestamp '{as_of}') as day using (order_id)",
    "carts": "select * replace ('D2-' || cart_id as cart_id, created_at + interval 1 day"
    " as created_at, updated_at + interval 1 day as updated_at) from src"
    " where created_at >= timestamp '{as_of}'",
    "web_events": "select * replace ('D2-' || event_id as event_id, occurred_at + interval 1 day"
    " as occurred_at) from src where occurred_at >= timestamp '{as_of}'",
    "email_events": "select * replace ('D2-' || event_id as event_id, occurred_at + interval 1 day"
    " as occurred_at) from src where occurred_at >= timestamp '{as_of}'",
}


def write_day2_files(store: Path) -> tuple[list[Path], dict[str, int]]:
    """Writes ``<entity>/part-day2.parquet`` beside the store's parts; returns them, and rows."""
    import duckdb

    written: list[Path] = []
    rows: dict[str, int] = {}
    con = duckdb.connect()
    try:
        for entity, sql in DAY2_FILES.items():
            parts = store / entity / "part-*.parquet"
            con.execute(f"create or replace temp view src as select * from read_parquet('{parts}')")
            target = store / entity / "part-day2.parquet"
            query = sql.format(as_of=AS_OF, store=store)
            con.execute(f"copy ({query}) to '{target}' (format parquet)")
            written.append(target)
            rows[entity] = con.execute(f"select count(*) from read_parquet('{target}')").fetchone()[
                0
            ]
    finally:
        con.close()
    return written, rows


def run_daily_build(
    run_dir: Path, store: Path, top: int, timeout_s: float, profiles_dir: str = "."
) -> dict[str, Any]:
    """The next day's scheduled build: the warehouse of the full build, one day of new files
    (kept out of the cached store afterwards), ``as_of_date`` one day later, and the command the
    schedule runs (``dbt build`` without the unit tests, reusing the last parse of the project)."""
    for stray in store.glob("*/part-day2.parquet"):
        stray.unlink()
    written, rows = write_day2_files(store)
    try:
        result = run_dbt(
            run_dir,
            store,
            "daily",
            ["build", *SCHEDULED_BUILD_ARGS],
            top,
            timeout_s,
            profiles_dir,
            as_of=DAY2,
            reuse_parse_from=run_dir / "target_build",
        )
    finally:
        for path in written:
            path.unlink(missing_ok=True)
    result["day2_rows"] = rows
    result["as_of_date"] = DAY2
    return result


# --------------------------------------------------------------------------------------------
# pandas reference
# --------------------------------------------------------------------------------------------


def reference_main(store: str, out: str) -> int:
    """Child process: times ``load_raw_contract`` + ``compute_segments``; writes JSON to ``out``."""
    record: dict[str, Any] = {"phase": "import"}
    out_path = Path(out)

    def save() -> None:
        out_path.write_text(json.dumps(record, indent=2))

    start = time.perf_counter()
    sys.path.insert(0, str(PROJECT_DIR))
    from tests.reference.segments import compute_segments, load_raw_contract

    record["import_s"] = round(time.perf_counter() - start, 3)
    record["phase"] = "load_raw_contract"
    save()
    start = time.perf_counter()
    data = load_raw_contract(store)
    record["load_s"] = round(time.perf_counter() - start, 3)
    record["clean_rows"] = {name: len(frame) for name, frame in data.items()}
    record["phase"] = "compute_segments"
    save()
    print(f"reference: load_raw_contract {record['load_s']:.1f} s", file=sys.stderr, flush=True)
    start = time.perf_counter()
    result = compute_segments(data, AS_OF)
    record["compute_s"] = round(time.perf_counter() - start, 3)
    record["total_s"] = round(record["load_s"] + record["compute_s"], 3)
    record["result_rows"] = len(result)
    record["scored_rows"] = int(result["r_score"].notna().sum())
    record["phase"] = "done"
    save()
    print(f"reference: compute_segments {record['compute_s']:.1f} s", file=sys.stderr, flush=True)
    return 0


def run_reference(
    run_dir: Path, store: Path, timeout_s: float, max_rss_bytes: int
) -> dict[str, Any]:
    out = run_dir / "reference.json"
    remove_path(out)
    command = [
        sys.executable,
        "-m",
        "benchmarks.bench",
        "--_reference-store",
        str(store),
        "--_reference-out",
        str(out),
    ]
    measured = run_measured(
        command,
        time_file=run_dir / "time_reference.txt",
        log_file=run_dir / "reference.log",
        timeout_s=timeout_s,
        max_rss_bytes=max_rss_bytes,
    )
    record = json.loads(out.read_text()) if out.is_file() else {}
    result: dict[str, Any] = {
        **measured,
        **record,
        "timeout_s": timeout_s,
        "max_rss_limit_bytes": max_rss_bytes,
    }
    if record.get("phase") == "done" and measured["rc"] == 0:
        result["status"] = "ok"
    elif measured["killed_for"] == "timeout":
        result["status"] = "timeout"
    elif measured["killed_for"] == "memory_limit":
        result["status"] = "memory_limit"
    elif measured["signal"] == "9" or measured["rc"] in (137, -9):
        result["status"] = "oom_killed"
    else:
        result["status"] = "error"
    return result


# --------------------------------------------------------------------------------------------
# One size
# --------------------------------------------------------------------------------------------


def entry_label(orders: int, memory_limit: str | None) -> str:
    """``10M``, or ``10M@memory_limit=3GB`` for a run with DuckDB's memory_limit overridden."""
    label = size_label(orders)
    return f"{label}@memory_limit={memory_limit}" if memory_limit else label


def bench_size(
    orders: int,
    args: argparse.Namespace,
    previous: dict[str, Any] | None = None,
    save: Any = None,
) -> dict[str, Any]:
    root: Path = args.out
    label = entry_label(orders, args.duckdb_memory_limit)
    store_info = ensure_store(root, orders)
    store = Path(store_info["path"])
    run_dir = root / "runs" / label.replace("@", "_").replace("=", "")
    run_dir.mkdir(parents=True, exist_ok=True)
    profiles_dir = profiles_dir_for(run_dir, args.duckdb_memory_limit)

    load_before = load_average()
    print(f"[{label}] dbt build (load average before: {load_before}) ...", flush=True)
    dbt = run_dbt_build(run_dir, store, args.top, args.dbt_timeout, profiles_dir)
    dbt["duckdb_memory_limit"] = args.duckdb_memory_limit or "DuckDB default (80% of RAM)"
    print(
        f"[{label}] dbt build rc={dbt['rc']} wall {dbt['wall_s']:.1f} s, peak RSS "
        f"{(dbt['max_rss_bytes'] or 0) / GB:.2f} GB, RFM part {dbt.get('rfm_part_s', 0):.2f} s",
        flush=True,
    )
    rows = store_info.get("rows", {})
    entry: dict[str, Any] = {
        "label": label,
        "orders_target": orders,
        "orders": rows.get("orders"),
        "contacts": store_info["params"]["contacts"],
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "loadavg_before": load_before,
        "machine": machine_info(),
        "store": {
            "path": str(store),
            "rows": rows,
            "bytes": store_info.get("bytes"),
            "generate_s": store_info.get("generate_s"),
            "cached": store_info.get("cached"),
        },
        "dbt": dbt,
        "rfm_isolated": None,
        "reference": None,
        "ratio_pandas_over_sql_rfm": None,
        "ratio_lower_bound": None,
        "ratio_pandas_over_sql_rfm_isolated": None,
        "complete": False,
    }
    if save:
        save(entry)  # the build's numbers survive even if what follows is interrupted

    if args.daily and dbt["rc"] == 0:
        print(f"[{label}] next day's build (one day of new files, as of {DAY2}) ...", flush=True)
        daily = run_daily_build(run_dir, store, args.top, args.dbt_timeout, profiles_dir)
        entry["daily"] = daily
        print(
            f"[{label}] daily build rc={daily['rc']} wall {daily['wall_s']:.1f} s, peak RSS "
            f"{(daily['max_rss_bytes'] or 0) / GB:.2f} GB ({sum(daily['day2_rows'].values()):,}"
            " new rows)",
            flush=True,
        )
        if save:
            save(entry)

    rfm_isolated: dict[str, Any] | None = None
    if not args.no_isolated_rfm and dbt["rc"] == 0:
        print(f"[{label}] dbt run of the RFM-part models alone ...", flush=True)
        rfm_isolated = run_rfm_isolated(run_dir, store, args.dbt_timeout, profiles_dir)
        print(
            f"[{label}] RFM part alone rc={rfm_isolated['rc']}: "
            f"{fmt_num(rfm_isolated.get('rfm_part_s'), 2)} s",
            flush=True,
        )
    if not args.keep:
        db_file = run_dir / "warehouse.duckdb"
        for path in (db_file, Path(f"{db_file}.wal"), Path(f"{db_file}.tmp")):
            remove_path(path)

    reference: dict[str, Any] | None = None
    if args.skip_reference:
        # keep the earlier reference measurement of this very store, if there is one
        same_store = previous and previous.get("store", {}).get("rows") == store_info.get("rows")
        if same_store and previous.get("reference"):
            reference = dict(previous["reference"])
            reference.setdefault("reused_from", previous.get("measured_at"))
            print(
                f"[{label}] pandas reference: reusing the one measured at "
                f"{reference['reused_from']} ({reference['status']})",
                flush=True,
            )
    else:
        print(
            f"[{label}] pandas reference (timeout {args.reference_timeout:.0f} s, RSS cap "
            f"{args.reference_max_rss_gb:.1f} GB) ...",
            flush=True,
        )
        reference = run_reference(
            run_dir, store, args.reference_timeout, int(args.reference_max_rss_gb * GB)
        )
        print(
            f"[{label}] pandas reference {reference['status']}: "
            f"{fmt_num(reference.get('total_s'), 1)} s (wall {reference['wall_s']:.1f} s), "
            f"peak RSS {(reference['max_rss_bytes'] or 0) / GB:.2f} GB",
            flush=True,
        )

    ratio, ratio_bound = None, None
    sql_rfm = dbt.get("rfm_part_s")
    if reference and sql_rfm:
        if reference["status"] == "ok":
            ratio = round(reference["total_s"] / sql_rfm, 2)
        elif reference["status"] in ("timeout", "memory_limit", "oom_killed"):
            # the reference had run at least this long when it was stopped
            ratio_bound = round(reference["wall_s"] / sql_rfm, 2)
    ratio_isolated = None
    isolated_s = (rfm_isolated or {}).get("rfm_part_s") if rfm_isolated else None
    if reference and reference["status"] == "ok" and isolated_s and rfm_isolated["rc"] == 0:
        ratio_isolated = round(reference["total_s"] / rfm_isolated["rfm_part_s"], 2)

    entry.update(
        {
            "rfm_isolated": rfm_isolated,
            "reference": reference,
            "ratio_pandas_over_sql_rfm": ratio,
            "ratio_lower_bound": ratio_bound,
            "ratio_pandas_over_sql_rfm_isolated": ratio_isolated,
            "complete": True,
        }
    )

    if not args.keep and (store_info.get("bytes") or 0) > args.store_cache_limit_gb * GB:
        print(
            f"[{label}] store is {store_info['bytes'] / GB:.2f} GB > "
            f"{args.store_cache_limit_gb} GB: not kept in the cache",
            flush=True,
        )
        remove_path(store)
        entry["store"]["deleted_after_run"] = True
    return entry


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _gb(value: int | None) -> str:
    return "n/a" if not value else f"{value / GB:.2f}"


def _reference_cell(entry: dict[str, Any]) -> str:
    ref = entry.get("reference")
    if not ref:
        return "skipped"
    if ref["status"] == "ok":
        return f"{ref['total_s']:,.1f}"
    if ref["status"] == "timeout":
        return f"> {ref['timeout_s']:.0f} (timeout)"
    if ref["status"] == "memory_limit":
        return f"stopped at {ref['max_rss_limit_bytes'] / GB:.1f} GB RSS cap"
    if ref["status"] == "oom_killed":
        return "OOM-killed"
    return "error"


def _ratio_cell(entry: dict[str, Any]) -> str:
    if entry.get("ratio_pandas_over_sql_rfm") is not None:
        return f"{entry['ratio_pandas_over_sql_rfm']:,.1f}x"
    if entry.get("ratio_lower_bound") is not None:
        return f"> {entry['ratio_lower_bound']:,.1f}x"
    return "n/a"


def markdown_report(entries: list[dict[str, Any]]) -> str:
    lines = [
        "| orders | contacts | dbt build wall (s) | dbt elapsed (s) | peak RSS dbt+DuckDB (GB) "
        "| RFM part SQL (s) | RFM part alone (s) | pandas reference (s) | pandas peak RSS (GB) "
        "| pandas / SQL RFM | other processes' CPU during build (s) | build status |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for e in entries:
        dbt = e["dbt"]
        ref = e.get("reference") or {}
        status = "ok" if dbt["rc"] == 0 else f"rc={dbt['rc']}"
        if dbt.get("killed_for"):
            status = f"stopped ({dbt['killed_for']})"
        if dbt.get("failures"):
            status += f", {len(dbt['failures'])} failed nodes"
        lines.append(
            f"| {e['orders'] or e['orders_target']:,} | {e['contacts']:,} | {dbt['wall_s']:.1f} "
            f"| {fmt_num(dbt.get('dbt_elapsed_s'))} | {_gb(dbt.get('max_rss_bytes'))} "
            f"| {fmt_num(dbt.get('rfm_part_s'), 2)} "
            f"| {fmt_num((e.get('rfm_isolated') or {}).get('rfm_part_s'), 2)} "
            f"| {_reference_cell(e)} "
            f"| {_gb(ref.get('max_rss_bytes'))} | {_ratio_cell(e)} "
            f"| {fmt_num(dbt.get('others_cpu_s'), 0)} | {status} |"
        )
    lines += ["", "Per mart (execution_time from run_results.json, seconds):", ""]
    lines.append("| orders | " + " | ".join(MARTS) + " |")
    lines.append("|---:|" + "---:|" * len(MARTS))
    for e in entries:
        marts = e["dbt"].get("marts", {})
        cells = " | ".join(fmt_num(marts.get(m), 2) for m in MARTS)
        lines.append(f"| {e['orders'] or e['orders_target']:,} | {cells} |")
    lines += ["", "RFM part, per node (seconds):", ""]
    lines.append("| orders | " + " | ".join(RFM_NODES) + " |")
    lines.append("|---:|" + "---:|" * len(RFM_NODES))
    for e in entries:
        rfm = e["dbt"].get("rfm_nodes", {})
        cells = " | ".join(fmt_num(rfm.get(n), 2) for n in RFM_NODES)
        lines.append(f"| {e['orders'] or e['orders_target']:,} | {cells} |")
    for e in entries:
        slowest = e["dbt"].get("slowest", [])
        if not slowest:
            continue
        lines += ["", f"Slowest nodes at {e['label']} orders:", ""]
        lines += ["| node | type | seconds |", "|---|---|---:|"]
        for node in slowest:
            lines.append(
                f"| {node['name']} | {node['resource_type']} | {node['execution_time_s']:.2f} |"
            )
    target = next((e for e in entries if e["orders_target"] == TARGET_ORDERS), None)
    if target:
        lines += ["", "Targets at 10M orders:", "", *target_lines(target)]
    return "\n".join(lines)


def target_lines(entry: dict[str, Any]) -> list[str]:
    dbt = entry["dbt"]
    out = ["| target | measured | met? |", "|---|---:|---|"]
    wall = dbt["wall_s"]
    met = dbt["rc"] == 0 and wall < TARGET_BUILD_S
    out.append(
        f"| whole build < {TARGET_BUILD_S:.0f} s | {wall:.1f} s | "
        + ("yes" if met else f"no ({wall / TARGET_BUILD_S:.1f}x the target)")
        + " |"
    )
    daily = entry.get("daily")
    if daily:
        wall = daily["wall_s"]
        met = daily["rc"] == 0 and wall < TARGET_BUILD_S
        out.append(
            f"| next day's scheduled build < {TARGET_BUILD_S:.0f} s (one day of new files) |"
            f" {wall:.1f} s | "
            + ("yes" if met else f"no ({wall / TARGET_BUILD_S:.1f}x the target)")
            + " |"
        )
    peak = (dbt.get("max_rss_bytes") or 0) / GB
    met = 0 < peak < TARGET_PEAK_GB
    out.append(
        f"| peak memory < {TARGET_PEAK_GB:.0f} GB | {peak:.2f} GB | "
        + ("yes" if met else f"no ({peak / TARGET_PEAK_GB:.1f}x the target)")
        + " |"
    )
    ratio, bound = entry.get("ratio_pandas_over_sql_rfm"), entry.get("ratio_lower_bound")
    if ratio is not None:
        verdict = "yes" if ratio >= TARGET_RATIO else f"no (SQL is {1 / ratio:.1f}x slower)"
        out.append(f"| RFM part no slower than pandas | {ratio:.1f}x | {verdict} |")
    elif bound is not None:
        out.append(
            f"| RFM part no slower than pandas | > {bound:.1f}x (reference stopped: "
            f"{entry['reference']['status']}) | "
            + ("yes" if bound >= TARGET_RATIO else "undecided")
            + " |"
        )
    else:
        out.append("| RFM part no slower than pandas | n/a | not measured |")
    return out


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench",
        description="Benchmark the whole dbt build and the pandas RFM reference at scale.",
    )
    parser.add_argument(
        "--orders",
        default=None,
        help="comma-separated sizes in orders, e.g. 100000,1000000,10000000 or 100k,1M,10M "
        "(default: 100k,1M,10M)",
    )
    parser.add_argument(
        "--sizes",
        choices=sorted(SIZE_PRESETS),
        default=None,
        help="preset sizes: small = 100k orders only, full = 100k,1M,10M",
    )
    parser.add_argument(
        "--out", type=Path, default=PROJECT_DIR / "bench-results", help="results folder"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the DuckDB files and every generated store (default: delete the DuckDB "
        "files, and stores over --store-cache-limit-gb)",
    )
    parser.add_argument(
        "--no-isolated-rfm",
        action="store_true",
        help="skip the extra `dbt run` of the RFM-part models alone after the build",
    )
    parser.add_argument(
        "--skip-reference",
        action="store_true",
        help="do not run the pandas reference (an earlier result on the same store is kept)",
    )
    parser.add_argument(
        "--reference-timeout",
        type=float,
        default=600.0,
        help="seconds before the pandas reference is stopped (default 600)",
    )
    parser.add_argument(
        "--reference-max-rss-gb",
        type=float,
        default=round(mem_total_bytes() * 0.6 / GB, 1),
        help="RSS at which the pandas reference is stopped (default: 60%% of RAM)",
    )
    parser.add_argument(
        "--dbt-timeout", type=float, default=1800.0, help="seconds before dbt build is stopped"
    )
    parser.add_argument(
        "--duckdb-memory-limit",
        default=None,
        metavar="SIZE",
        help="run with a copy of profiles.yml that sets DuckDB's memory_limit (e.g. 3GB); "
        "recorded as a separate variant <size>@memory_limit=SIZE (default: profiles.yml as is)",
    )
    parser.add_argument(
        "--store-cache-limit-gb",
        type=float,
        default=3.0,
        help="stores larger than this are deleted after the run unless --keep (default 3)",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="print the Markdown report of <out>/results.json (the sizes given, else all) "
        "without running anything",
    )
    parser.add_argument(
        "--daily",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after the full build, add one day of new files and time the next day's build"
        " on the same warehouse (incremental ingestion); --no-daily to skip",
    )
    parser.add_argument("--top", type=int, default=10, help="slowest nodes to report")
    parser.add_argument("--_reference-store", dest="reference_store", help=argparse.SUPPRESS)
    parser.add_argument("--_reference-out", dest="reference_out", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.reference_store:
        return reference_main(args.reference_store, args.reference_out)
    if args.orders and args.sizes:
        raise SystemExit("use either --orders or --sizes")
    if args.orders:
        sizes = [parse_size(s) for s in args.orders.split(",") if s.strip()]
    else:
        sizes = list(SIZE_PRESETS[args.sizes or "full"])
    if args.report:
        results_file = args.out.resolve() / "results.json"
        if not results_file.is_file():
            raise SystemExit(f"no {results_file}")
        entries = json.loads(results_file.read_text()).get("sizes", [])
        if args.orders or args.sizes:
            entries = [e for e in entries if e["orders_target"] in sizes]
        print(markdown_report(entries))
        return 0
    if not Path(TIME_BIN).is_file():
        raise SystemExit(f"{TIME_BIN} is required (GNU time, for wall time and peak RSS)")
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    results_file = args.out / "results.json"

    previous: dict[str, Any] = {}
    if results_file.is_file():
        try:
            previous = json.loads(results_file.read_text())
        except json.JSONDecodeError:
            previous = {}
    by_label = {e["label"]: e for e in previous.get("sizes", [])}

    machine = machine_info()
    print(
        f"machine: {machine['nproc']} CPUs ({machine['cpu_model']}), "
        f"{machine['mem_total_gb']} GB RAM; duckdb {machine['duckdb']}, "
        f"dbt-core {machine['dbt_core']}",
        flush=True,
    )
    measured = []

    def save(entry: dict[str, Any]) -> None:
        by_label[entry["label"]] = entry
        ordered = sorted(by_label.values(), key=lambda e: (e["orders_target"], e["label"]))
        tmp = results_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps({"machine": machine, "sizes": ordered}, indent=2, default=str))
        tmp.replace(results_file)

    for orders in sizes:
        # an earlier result on the same store: its reference is kept with --skip-reference
        previous = by_label.get(entry_label(orders, args.duckdb_memory_limit)) or by_label.get(
            size_label(orders)
        )
        entry = bench_size(orders, args, previous, save)
        save(entry)
        measured.append(entry)

    print()
    print(markdown_report(measured))
    print(f"\nresults: {results_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
