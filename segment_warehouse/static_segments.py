"""Static segments (SPEC section 11): freeze a segment's members on a date under a name.

`segment-warehouse-freeze NAME --family rfm --segment Champions [--date D]` (or `--custom NAME`)
copies the contacts of that segment on D (default: the date of the last build) from the built
warehouse into `static_segments.static_segment_members`, a table outside every schema dbt builds:
no later build changes it. Each build gives every frozen member one row of family `static` in
segment_membership (with the contact's consent of that day), so history and activation see it like
any other segment. `--drop NAME` deletes one, `--list` lists them. The table is created by the
build's on-run-start hook (macros/static_segments.sql).

DuckDB lets one process write a file at a time: while a build (or a sync) holds the warehouse, the
command stops and says so; run it again when that is done.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

TABLE = "static_segments.static_segment_members"
# As var custom_segments' names (macros/custom_segments.sql): the key is static:<slug>.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,62}$")


class StaticSegmentError(Exception):
    """A mistake the user can fix; the message says how."""


@dataclass(frozen=True)
class StaticSegment:
    name: str
    frozen_on: dt.date
    source_segment_family: str
    source_segment: str
    members: int
    frozen_at: dt.datetime


def slug(name: str) -> str:
    """The key part of a segment name, as segment_membership computes segment_key."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower().replace("'", "")).strip("_")


def default_warehouse() -> Path:
    return Path(os.environ.get("DBT_DUCKDB_PATH", "target/segment_warehouse.duckdb"))


def connect(warehouse: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """The built warehouse; a clear error when it is missing, not built with static segments, or
    held by another process."""
    if not warehouse.exists():
        raise StaticSegmentError(
            f"{warehouse}: warehouse not found; build it first (`make demo` or `dbt build`), or "
            "name it with --database (or DBT_DUCKDB_PATH)"
        )
    try:
        con = duckdb.connect(str(warehouse), read_only=read_only)
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        raise StaticSegmentError(
            f"the warehouse {warehouse} is in use by another process (a dbt build, a Dagster run, "
            "a sync, or a client holding it open for writing; DuckDB allows one writer). Nothing "
            f"was changed; run the command again when it is done. ({error})"
        ) from error
    found = con.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = 'static_segments' and table_name = 'static_segment_members'"
    ).fetchone()[0]
    if not found:
        con.close()
        raise StaticSegmentError(
            f"{warehouse}: no table {TABLE}; build the warehouse with this version of the project "
            "first (`dbt build` creates it)"
        )
    return con


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name) or not slug(name):
        raise StaticSegmentError(
            f"{name!r} is not a valid segment name: use letters, digits, spaces, _ or -, starting "
            "with a letter or digit, at most 63 characters (e.g. spring_promo_2025)"
        )
    return name


def list_static_segments(con: duckdb.DuckDBPyConnection) -> list[StaticSegment]:
    rows = con.execute(
        f"""select static_segment, any_value(frozen_on), any_value(source_segment_family),
            any_value(source_segment), count(*), min(frozen_at)
        from {TABLE} group by static_segment order by static_segment"""
    ).fetchall()
    return [StaticSegment(*row) for row in rows]


def _membership_source(con: duckdb.DuckDBPyConnection, day: dt.date | None) -> tuple[str, dt.date]:
    """The table that holds the membership of `day` (default: the last build's date) and the day."""
    built = con.execute("select max(as_of_date) from main.segment_membership").fetchone()[0]
    if built is None:
        raise StaticSegmentError("segment_membership is empty; build the warehouse first")
    if day is None or day == built:
        return "main.segment_membership", built
    days = [
        row[0]
        for row in con.execute(
            "select distinct as_of_date from main.segment_membership_history order by 1"
        ).fetchall()
    ]
    if day not in days:
        shown = ", ".join(str(d) for d in days[-10:]) or "none"
        raise StaticSegmentError(
            f"{day} is not a built date (segment_membership_history holds {len(days)} built "
            f"dates, the last: {shown}); build that day first "
            f"(`dbt build --vars '{{as_of_date: {day}}}'`, or a backfill) or choose a built date"
        )
    return "main.segment_membership_history", day


def freeze(
    warehouse: Path,
    name: str,
    family: str,
    segment: str,
    day: dt.date | None = None,
) -> StaticSegment:
    """Copy the members of `family` / `segment` (a name or a key) on `day` into a new static
    segment; the segment as listed."""
    check_name(name)
    con = connect(warehouse)
    committed = False
    try:
        con.execute("begin transaction")
        taken = {slug(existing.name): existing.name for existing in list_static_segments(con)}
        if slug(name) in taken:
            raise StaticSegmentError(
                f"static segment {taken[slug(name)]!r} already exists (key static:{slug(name)}); "
                f"a static segment never changes: drop it first (segment-warehouse-freeze --drop "
                f"{taken[slug(name)]!r}) or choose another name"
            )
        source, day = _membership_source(con, day)
        matches = f"""from {source}
            where as_of_date = $day and segment_family = $family
              and (segment = $segment or segment_key = $segment
                   or segment_key = $family || ':' || $segment)"""
        params = {"day": day, "family": family, "segment": segment}
        found = con.execute(f"select any_value(segment), count(*) {matches}", params).fetchone()
        if not found[1]:
            known = [
                row[0]
                for row in con.execute(
                    f"select distinct segment from {source}"
                    " where as_of_date = $day and segment_family = $family order by 1",
                    {"day": day, "family": family},
                ).fetchall()
            ]
            if not known:
                families = [
                    row[0]
                    for row in con.execute(
                        f"select distinct segment_family from {source} where as_of_date = ?"
                        " order by 1",
                        [day],
                    ).fetchall()
                ]
                raise StaticSegmentError(
                    f"no segment family {family!r} on {day}; families: {', '.join(families)}"
                )
            raise StaticSegmentError(
                f"no segment {segment!r} in family {family!r} on {day} (unknown, or empty that "
                f"day); segments of {family} on {day}: {', '.join(known)}"
            )
        con.execute(
            f"""insert into {TABLE}
            select distinct $name, contact_id, $day, $family, segment, now() {matches}""",
            {**params, "name": name},
        )
        con.execute("commit")
        committed = True
        return next(s for s in list_static_segments(con) if s.name == name)
    finally:
        if not committed:
            con.execute("rollback")
        con.close()


def drop(warehouse: Path, name: str) -> int:
    """Delete static segment `name`; the number of members it had."""
    con = connect(warehouse)
    try:
        count = con.execute(
            f"select count(*) from {TABLE} where static_segment = ?", [name]
        ).fetchone()[0]
        if not count:
            names = [segment.name for segment in list_static_segments(con)]
            raise StaticSegmentError(
                f"no static segment {name!r}; static segments: {', '.join(names) or 'none'}"
            )
        con.execute(f"delete from {TABLE} where static_segment = ?", [name])
        return count
    finally:
        con.close()


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="segment-warehouse-freeze",
        description="Freeze a segment's members under a name (family static), drop or list them.",
    )
    parser.add_argument("name", nargs="?", help="the static segment's name, e.g. spring_promo")
    parser.add_argument("--family", help="the family of the segment to freeze, e.g. rfm")
    parser.add_argument("--segment", help="the segment to freeze, by name or key (Champions)")
    parser.add_argument("--custom", metavar="NAME", help="freeze a custom segment (family custom)")
    parser.add_argument(
        "--date", type=_date, help="the built as-of date to freeze (default: the last build's)"
    )
    parser.add_argument("--drop", metavar="NAME", help="delete a static segment")
    parser.add_argument("--list", action="store_true", help="list the static segments")
    parser.add_argument(
        "--database", type=Path, help="the warehouse (default $DBT_DUCKDB_PATH or target/...)"
    )
    args = parser.parse_args(argv)
    warehouse = args.database or default_warehouse()
    actions = sum([args.list, args.drop is not None, args.name is not None])
    if actions != 1:
        parser.error("give NAME to freeze, or --drop NAME, or --list (one of them)")
    try:
        if args.list:
            con = connect(warehouse, read_only=True)
            try:
                segments = list_static_segments(con)
            finally:
                con.close()
            for s in segments:
                print(
                    f"{s.name}\tstatic:{slug(s.name)}\t{s.members} contacts\t"
                    f"{s.source_segment_family} {s.source_segment} on {s.frozen_on}"
                )
            if not segments:
                print("no static segments")
            return 0
        if args.drop is not None:
            count = drop(warehouse, args.drop)
            print(
                f"dropped static segment {args.drop!r} ({count} contacts); the next build removes "
                "its rows from segment_membership (a mirror destination then exits them)"
            )
            return 0
        if args.custom and (args.family or args.segment):
            parser.error("give --custom NAME, or --family and --segment, not both")
        if args.custom:
            family, segment = "custom", args.custom
        elif args.family and args.segment:
            family, segment = args.family, args.segment
        else:
            parser.error("say what to freeze: --family F --segment S, or --custom NAME")
        frozen = freeze(warehouse, args.name, family, segment, args.date)
        print(
            f"froze {frozen.members} contacts of {family} {frozen.source_segment} on "
            f"{frozen.frozen_on} as static segment {frozen.name!r} (key "
            f"static:{slug(frozen.name)}); the next build adds them to segment_membership"
        )
        return 0
    except StaticSegmentError as error:
        print(f"segment-warehouse-freeze: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
