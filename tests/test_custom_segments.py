"""Custom and static segments (SPEC section 11) from a real build: custom members against the
conditions evaluated here in pandas, a wrong column or name failing the build with the segment
named, static segments frozen by segment-warehouse-freeze and left unchanged by a later build of
another date, dropped, kept in the history, and pushed to a files destination. The checks that
build nothing are in test_static_segments.py.

The demo warehouse (conftest) is read, never written: the freeze tests work on a copy of it."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections import defaultdict
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from activation_data import write_config
from conftest import (
    DEMO_AS_OF,
    ROOT,
    BuildPool,
    query,
    query_frame,
    run_build,
    submit_demo_build,
)

from activation.config import load_config
from activation.sync import sync_destination
from segment_warehouse import static_segments
from segment_warehouse.static_segments import StaticSegmentError

# Builds the dbt project: left out of `make quick` (pytest -m 'not e2e').
pytestmark = pytest.mark.e2e

LATER_AS_OF = "2025-05-31"  # the later build: another date, so every dynamic segment moves
PROJECT_VARS = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]

# The custom segments shipped in dbt_project.yml, and the same rules written in pandas.
SHIPPED_CONDITIONS = {
    "champions_hot": "rfm_segment = 'Champions' and nurturing_score >= 40",
    "at_risk_still_opening": (
        "lifecycle_stage = 'at_risk' and engagement_level in ('super_active', 'moderate')"
    ),
}
PANDAS_RULES = {
    "champions_hot": lambda s: (s.rfm_segment == "Champions") & (s.nurturing_score >= 40),
    "at_risk_still_opening": lambda s: (
        (s.lifecycle_stage == "at_risk") & s.engagement_level.isin(["super_active", "moderate"])
    ),
}

BAD_COLUMN_VARS = {
    "custom_segments": [
        {"name": "vip", "condition": "rfm_segmnt = 'Champions' and nurturing_score >= 40"},
        {"name": "fine", "condition": "list_count(list_filter([age], a -> a > 30)) = 1"},
    ]
}
DUPLICATE_NAME_VARS = {
    "custom_segments": [
        {"name": "Big spenders", "condition": "monetary >= 1000"},
        {"name": "big_spenders", "condition": "monetary >= 2000"},
    ]
}


def _failing_build(build_root: Path, key: str, custom: dict[str, Any]) -> Any:
    """Only segment_membership, into an empty warehouse: the check fails it before any SQL runs."""
    return run_build(
        None,
        DEMO_AS_OF,
        build_root / key,
        vars=custom,
        with_tests=False,
        extra_args=["--select", "segment_membership"],
    )


def _segment_members(db: Path, family: str, segment: str, as_of: str) -> set[str]:
    return {
        row[0]
        for row in query(
            db,
            "select contact_id from main.segment_membership_history"
            " where segment_family = ? and segment = ? and as_of_date = ?",
            [family, segment, as_of],
        )
    }


def _freeze_and_rebuild(builds: BuildPool, build_root: Path) -> dict[str, Any]:
    """A copy of the demo warehouse; three segments frozen on 2025-06-30 and one of them dropped;
    then a build as of 2025-05-31 into the same file (with the data tests)."""
    store, demo = builds.result("demo")
    folder = build_root / "static_segments"
    folder.mkdir()
    db = folder / "warehouse.duckdb"
    shutil.copy(demo, db)
    commands = (
        ["june_champions", "--family", "rfm", "--segment", "Champions"],
        ["june_hot", "--custom", "champions_hot"],
        [
            "to_drop",
            "--family",
            "lifecycle",
            "--segment",
            "lifecycle:at_risk",
            "--date",
            DEMO_AS_OF,
        ],
        ["--drop", "to_drop"],
    )
    for command in commands:
        assert static_segments.main([*command, "--database", str(db)]) == 0, command
    frozen = query(db, "select * from static_segments.static_segment_members order by all")
    result = run_build(store, LATER_AS_OF, folder, keep_warehouse=True)
    return {"demo": demo, "db": db, "frozen": frozen, "result": result}


def submit_builds(builds: BuildPool, build_root: Path) -> dict[str, Future[Any]]:
    return {
        "demo": submit_demo_build(builds, build_root),
        "bad_column": builds.submit(
            "custom_bad_column", _failing_build, build_root, "custom_bad_column", BAD_COLUMN_VARS
        ),
        "duplicate": builds.submit(
            "custom_duplicate", _failing_build, build_root, "custom_duplicate", DUPLICATE_NAME_VARS
        ),
        "static": builds.submit("static_segments", _freeze_and_rebuild, builds, build_root),
    }


@pytest.fixture(scope="module")
def rebuilt(builds: BuildPool, build_root: Path) -> dict[str, Any]:
    submit_builds(builds, build_root)
    state = builds.result("static_segments")
    state["result"].check()
    return state


def test_custom_members_are_the_conditions_evaluated_in_pandas(
    builds: BuildPool, build_root: Path, demo_warehouse: Path
) -> None:
    shipped = {s["name"]: s["condition"] for s in PROJECT_VARS["custom_segments"]}
    assert shipped == SHIPPED_CONDITIONS, "dbt_project.yml's custom segments changed: update here"
    segments = query_frame(demo_warehouse, "select * from main.customer_segments")
    expected = {
        (contact, name)
        for name, rule in PANDAS_RULES.items()
        for contact in segments.loc[rule(segments).fillna(False).astype(bool), "contact_id"]
    }
    rows = query(
        demo_warehouse,
        "select contact_id, segment, segment_key from main.segment_membership"
        " where segment_family = 'custom'",
    )
    assert {(contact, segment) for contact, segment, _ in rows} == expected
    assert len(rows) == len(expected), "one row per (contact, custom segment)"
    assert {key for _, _, key in rows} == {f"custom:{name}" for name in SHIPPED_CONDITIONS}
    for name in SHIPPED_CONDITIONS:
        members = sum(1 for _, segment, _ in rows if segment == name)
        assert 0 < members < len(segments), (name, members)


def test_a_wrong_column_fails_the_build_naming_segment_and_column(
    builds: BuildPool, build_root: Path
) -> None:
    submit_builds(builds, build_root)
    result = builds.result("custom_bad_column")
    assert not result.ok, result.tail()
    assert (
        "custom segment 'vip': column 'rfm_segmnt' is not a column of customer_segments"
        in result.output
    ), result.tail()
    assert "var custom_segments (dbt_project.yml)" in result.output
    # a lambda's parameter is not a column; `age` is one
    assert "custom segment 'fine'" not in result.output, result.tail()


def test_two_names_with_one_key_fail_the_build(builds: BuildPool, build_root: Path) -> None:
    submit_builds(builds, build_root)
    result = builds.result("custom_duplicate")
    assert not result.ok, result.tail()
    assert (
        "custom segments 'Big spenders' and 'big_spenders' have the same key custom:big_spenders"
        in result.output
    ), result.tail()


def test_frozen_segments_are_unchanged_by_a_later_build(rebuilt: dict[str, Any]) -> None:
    db, demo = rebuilt["db"], rebuilt["demo"]
    after = query(db, "select * from static_segments.static_segment_members order by all")
    assert after == rebuilt["frozen"]
    frozen: dict[str, set[str]] = defaultdict(set)
    for name, contact, frozen_on, *_ in after:
        assert frozen_on == dt.date.fromisoformat(DEMO_AS_OF)
        frozen[name].add(contact)
    assert set(frozen) == {"june_champions", "june_hot"}, "to_drop was dropped"
    assert frozen["june_champions"] == _segment_members(demo, "rfm", "Champions", DEMO_AS_OF)
    assert frozen["june_hot"] == _segment_members(demo, "custom", "champions_hot", DEMO_AS_OF)

    # the later build: each frozen member that is a contact on that date has its static row ...
    contacts = {row[0] for row in query(db, "select contact_id from main.customer_segments")}
    rows = query(
        db,
        "select segment, contact_id, segment_key, as_of_date from main.segment_membership"
        " where segment_family = 'static'",
    )
    static: dict[str, set[str]] = defaultdict(set)
    for segment, contact, key, as_of_date in rows:
        assert key == f"static:{segment}" and str(as_of_date) == LATER_AS_OF
        static[segment].add(contact)
    assert set(static) == {"june_champions", "june_hot"}
    for name, members in frozen.items():
        assert static[name] == members & contacts, name
    # ... while the dynamic segment it was taken from moved with the date
    champions_then = _segment_members(db, "rfm", "Champions", LATER_AS_OF)
    assert champions_then != frozen["june_champions"] & contacts
    history = query(
        db,
        "select distinct segment from main.segment_membership_history"
        " where segment_family = 'static' and as_of_date = ?",
        [LATER_AS_OF],
    )
    assert {row[0] for row in history} == {"june_champions", "june_hot"}


def test_history_changes_of_custom_and_static_follow_the_history(rebuilt: dict[str, Any]) -> None:
    """A contact may be in several custom or static segments: each one enters and exits alone."""
    db = rebuilt["db"]
    members: dict[Any, set[tuple]] = defaultdict(set)
    for day, contact, family, segment in query(
        db,
        "select as_of_date, contact_id, segment_family, segment"
        " from main.segment_membership_history where segment_family in ('custom', 'static')",
    ):
        members[day].add((contact, family, segment))
    earlier, later = sorted(members)
    expected = {(later, earlier, *m, "entered") for m in members[later] - members[earlier]}
    expected |= {(later, earlier, *m, "exited") for m in members[earlier] - members[later]}
    actual = query(
        db,
        "select as_of_date, previous_as_of_date, contact_id, segment_family, segment, change_type"
        " from main.segment_membership_changes where segment_family in ('custom', 'static')",
    )
    assert expected and set(actual) == expected and len(actual) == len(expected)


def test_freeze_refuses_a_taken_name_and_an_unknown_segment(rebuilt: dict[str, Any]) -> None:
    db = rebuilt["db"]
    with pytest.raises(StaticSegmentError, match="already exists .* drop it first"):
        static_segments.freeze(db, "June Champions", "rfm", "Champions")
    with pytest.raises(StaticSegmentError, match="no segment 'Champs' in family 'rfm'.*Champions"):
        static_segments.freeze(db, "new", "rfm", "Champs")
    with pytest.raises(StaticSegmentError, match="no segment family 'rmf'"):
        static_segments.freeze(db, "new", "rmf", "Champions")
    with pytest.raises(StaticSegmentError, match="2025-01-01 is not a built date"):
        static_segments.freeze(db, "new", "rfm", "Champions", dt.date(2025, 1, 1))
    with pytest.raises(StaticSegmentError, match="no static segment 'nope'"):
        static_segments.drop(db, "nope")
    after = query(db, "select * from static_segments.static_segment_members order by all")
    assert after == rebuilt["frozen"], "a refused command changes nothing"


def test_custom_and_static_segments_are_pushed_to_a_files_destination(
    tmp_path: Path, rebuilt: dict[str, Any]
) -> None:
    db = rebuilt["db"]
    keys = ("custom:at_risk_still_opening", "static:june_champions")
    config = load_config(
        write_config(
            tmp_path / "destinations.yml",
            [
                {
                    "name": "campaigns",
                    "type": "files",
                    "segments": {"names": list(keys)},
                    "options": {"path": "out"},
                },
                {
                    "name": "customs",
                    "type": "files",
                    "segments": {"families": ["custom"]},
                    "options": {"path": "out_custom"},
                },
            ],
        )
    )
    for destination in config.destinations:
        sync_destination(db, destination)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select segment_family, segment_key, email from main.segment_membership"
            " where segment_family in ('custom', 'static') and is_email_reachable"
            " and coalesce(email, '') <> ''"
        ).fetchall()

    def held(folder: Path) -> set[tuple[str, str]]:
        files = sorted(folder.glob("*.csv"))
        return {(r["tags"], r["email"]) for path in files for r in csv.DictReader(path.open())}

    pushed = held(tmp_path / "out")
    assert pushed == {(key, email) for _, key, email in rows if key in keys}
    assert {key for key, _ in pushed} == set(keys)
    assert {p.name for p in (tmp_path / "out").glob("*.csv")} == {
        "custom__at_risk_still_opening.csv",
        "static__june_champions.csv",
    }
    assert held(tmp_path / "out_custom") == {
        (key, email) for family, key, email in rows if family == "custom"
    }
