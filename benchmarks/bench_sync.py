"""Daily sync benchmark: 1M contacts, a first full sync, then a day where 1% of memberships change.

Usage::

    .venv/bin/python -m benchmarks.bench_sync                    # 1,000,000 contacts
    .venv/bin/python -m benchmarks.bench_sync --contacts 100000 --no-http

1. `main.segment_membership` is synthesised directly in a fresh DuckDB file (the dbt build is
   benchmarked by benchmarks/bench.py): every contact is in one lifecycle stage and one RFM group,
   40% in a focus segment; 15% lack email consent and 3% are unsubscribed. dbt then builds the
   mart activation reads, `activation_members`, from it (`dbt run --select activation_members`).
2. A first sync of each destination sends everything: files (CSV per segment + Parquet),
   PostgreSQL (a real server started on a temporary directory, one transaction) and the HTTP API
   (the tests' real HTTP server on 127.0.0.1), each timed.
3. 1% of the membership rows move to another segment of their family (one exit and one entry
   each), and each destination syncs again. The rows sent must equal the diff computed here with a
   plain `except` between the two membership tables (not with activation's SQL).

Results go to `bench-results/sync.json`; a Markdown table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR / "tests"))

from activation.config import load_config  # noqa: E402
from activation.sync import sync_destination  # noqa: E402

LIFECYCLE = ["new", "active", "loyal", "at_risk", "lapsed"]
RFM = [
    "Champions",
    "Loyal",
    "Potential Loyalist",
    "New Customers",
    "Promising",
    "Need Attention",
    "About To Sleep",
    "At Risk",
    "Cannot Lose Them",
    "Hibernating",
]
FOCUS = [
    "new_subscriber_non_buyer",
    "first_time_buyer_recent",
    "two_time_buyer_recent",
    "one_time_buyer_lapsing",
    "repeat_buyer_lapsing",
]


def _list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def build_membership(db: Path, contacts: int) -> int:
    with duckdb.connect(str(db)) as con:
        con.execute(
            f"""create or replace table main.segment_membership as
            with people as (
                select i, 'c' || lpad(cast(i as varchar), 8, '0') as contact_id,
                    cast(hash(i) % 1000000007 as bigint) as h
                from range({contacts}) as t(i)
            ),
            rows as (
                select *, 'lifecycle' as segment_family,
                    {_list(LIFECYCLE)}[1 + h % 5] as segment from people
                union all
                select *, 'rfm', {_list(RFM)}[1 + (h // 7) % 10] from people
                union all
                select *, 'focus', {_list(FOCUS)}[1 + (h // 70) % 5] from people
                where (h // 11) % 10 < 4
            )
            select contact_id, date '2025-06-30' as as_of_date, segment_family, segment,
                segment_family || ':' || trim(regexp_replace(lower(segment), '[^a-z0-9]+', '_',
                    'g'), '_') as segment_key,
                'user' || i || '@shop' || (i % 50) || '.example.com' as email,
                'First' || i as first_name, 'Last' || (i % 1000) as last_name,
                (h // 13) % 100 >= 15 as email_consent, false as sms_consent,
                (h // 17) % 100 < 3 as is_unsubscribed,
                (h // 13) % 100 >= 15 and (h // 17) % 100 >= 3 as is_email_reachable
            from rows"""
        )
        con.execute("create or replace table bench_day1 as select * from main.segment_membership")
        return con.execute("select count(*) from main.segment_membership").fetchone()[0]


def build_activation_members(db: Path, work: Path) -> float:
    """`dbt run` of the mart activation reads, on the synthesised segment_membership; seconds."""
    began = time.perf_counter()
    subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "run",
            "--select",
            "activation_members",
            "--profiles-dir",
            str(PROJECT_DIR),
            "--project-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
            "--quiet",
        ],
        env={**os.environ, "DBT_DUCKDB_PATH": str(db)},
        check=True,
    )
    return time.perf_counter() - began


def change_one_percent(db: Path) -> int:
    """Move 1% of membership rows to the next segment of their family."""
    with duckdb.connect(str(db)) as con:
        for family, values in (("lifecycle", LIFECYCLE), ("rfm", RFM), ("focus", FOCUS)):
            con.execute(
                f"""update main.segment_membership set
                    segment = {_list(values)}[
                        1 + (list_position({_list(values)}, segment) % {len(values)})],
                where segment_family = '{family}'
                    and hash(contact_id || segment_family || 'day2') % 100 = 0"""
            )
        con.execute(
            """update main.segment_membership set segment_key = segment_family || ':' ||
                trim(regexp_replace(lower(segment), '[^a-z0-9]+', '_', 'g'), '_')"""
        )
        return con.execute(
            """select count(*) from (select contact_id, segment_key from bench_day1
            except select contact_id, segment_key from main.segment_membership)"""
        ).fetchone()[0]


def true_diff(db: Path, families: list[str], email: bool) -> int:
    """Entries + exits between the two days, for a destination's families (and consent)."""
    where = f"segment_family in {tuple(families) if len(families) > 1 else repr(families[0])}"
    if len(families) == 1:
        where = f"segment_family = '{families[0]}'"
    if email:
        where += " and is_email_reachable"
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            f"""select
                (select count(*) from (
                    select contact_id, segment_key from main.segment_membership where {where}
                    except select contact_id, segment_key from bench_day1 where {where}))
                + (select count(*) from (
                    select contact_id, segment_key from bench_day1 where {where}
                    except select contact_id, segment_key from main.segment_membership
                    where {where}))"""
        ).fetchone()[0]


def timed_sync(db: Path, destination: Any) -> dict[str, Any]:
    began = time.perf_counter()
    result = sync_destination(db, destination)
    seconds = time.perf_counter() - began
    return {
        "seconds": round(seconds, 2),
        "rows_sent": result.sent,
        "entered": result.entered,
        "exited": result.exited,
        "rows_per_s": round(result.sent / seconds) if seconds else None,
        "status": result.status,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "bench-results")
    parser.add_argument("--no-http", action="store_true", help="leave out the HTTP API")
    parser.add_argument("--no-postgres", action="store_true", help="leave out PostgreSQL")
    args = parser.parse_args(argv)
    work = args.out / "sync"
    work.mkdir(parents=True, exist_ok=True)
    db = work / "warehouse.duckdb"
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)

    from activation_servers import TOKEN, EspServer, remove_postgres, start_postgres

    servers: list[Any] = []
    destinations: list[dict[str, Any]] = [
        {
            "name": "files",
            "type": "files",
            "segments": {"families": ["rfm", "lifecycle", "focus"]},
            "options": {"path": str(work / "files")},
        }
    ]
    families = {"files": (["rfm", "lifecycle", "focus"], True)}
    postgres = esp = None
    try:
        if not args.no_postgres:
            postgres = start_postgres()
            os.environ["BENCH_PG_DSN"] = postgres.dsn
            destinations.append(
                {
                    "name": "postgres",
                    "type": "postgres",
                    "identifier": "contact_id",
                    "consent": "none",
                    "segments": {"families": ["rfm", "lifecycle", "focus"]},
                    "options": {"dsn_env": "BENCH_PG_DSN", "table": "bench_membership"},
                }
            )
            families["postgres"] = (["rfm", "lifecycle", "focus"], False)
        if not args.no_http:
            esp = EspServer().__enter__()
            servers.append(esp)
            os.environ["BENCH_ESP_TOKEN"] = TOKEN
            destinations.append(
                {
                    "name": "http",
                    "type": "http",
                    "batch_size": 1000,
                    "segments": {"families": ["lifecycle", "focus"]},
                    "options": {"base_url": esp.url, "auth_env": "BENCH_ESP_TOKEN"},
                }
            )
            families["http"] = (["lifecycle", "focus"], True)
        config_path = work / "destinations.yml"
        config_path.write_text(yaml.safe_dump({"version": 1, "destinations": destinations}))
        config = load_config(config_path)

        began = time.perf_counter()
        memberships = build_membership(db, args.contacts)
        build_s = time.perf_counter() - began
        members_s = [build_activation_members(db, work)]
        first = {d.name: timed_sync(db, d) for d in config.destinations}
        changed = change_one_percent(db)
        members_s.append(build_activation_members(db, work))
        requests_before = len(esp.state.received) if esp is not None else 0
        daily = {d.name: timed_sync(db, d) for d in config.destinations}
        for name, result in daily.items():
            expected = true_diff(db, *families[name])
            result["true_diff"] = expected
            result["only_changes_sent"] = result["rows_sent"] == expected
            if esp is not None and name == "http":
                result["http_requests"] = len(esp.state.received) - requests_before
                first[name]["http_requests"] = requests_before
    finally:
        for server in servers:
            server.__exit__(None, None, None)
        if postgres is not None:
            remove_postgres(postgres)

    load = os.getloadavg()
    results = {
        "contacts": args.contacts,
        "memberships": memberships,
        "memberships_changed": changed,
        "membership_build_s": round(build_s, 2),
        "activation_members_s": [round(seconds, 2) for seconds in members_s],
        "first_sync": first,
        "daily_sync": daily,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
            "load_average_after": [round(x, 2) for x in load],
        },
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (args.out / "sync.json").write_text(json.dumps(results, indent=2))
    print(f"\n{args.contacts:,} contacts, {memberships:,} memberships, {changed:,} changed (1%)\n")
    print("| destination | first sync rows | first sync s | rows/s | daily rows sent | true diff "
          "| daily s | rows/s |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in first:
        f, d = first[name], daily[name]
        print(
            f"| {name} | {f['rows_sent']:,} | {f['seconds']} | {f['rows_per_s']:,} | "
            f"{d['rows_sent']:,} | {d['true_diff']:,} | {d['seconds']} | {d['rows_per_s']:,} |"
        )
    failed = [name for name, d in daily.items() if not d["only_changes_sent"]]
    if failed:
        print(f"FAILED: rows sent differ from the true diff for {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
