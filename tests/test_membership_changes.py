"""segment_membership_changes is incremental: a build as of D recomputes the changes of D and of
the built date after D. Built days out of order (a backfill of a day between two built days) must
leave exactly the entries and exits that the history implies, computed here in Python."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from conftest import DEMO_AS_OF, generate_demo_store, query, run_build

# Builds the dbt project: left out of `make quick` (pytest -m 'not e2e').
pytestmark = pytest.mark.e2e

DAYS = ("2025-04-30", "2025-06-30", "2025-05-31")  # the last one is a backfill between the two


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("changes")
    store = generate_demo_store(root / "store", contacts=300, seed=3, as_of=DEMO_AS_OF)
    for index, day in enumerate(DAYS):
        result = run_build(
            store, day, root / "warehouse", with_tests=False, keep_warehouse=index > 0
        )
        result.check()
    return store, result.db_path


@pytest.fixture(scope="module")
def warehouse(built: tuple[Path, Path]) -> Path:
    return built[1]


def expected_changes(db: Path) -> set[tuple]:
    members: dict[object, set[tuple]] = defaultdict(set)
    keys: dict[tuple, str] = {}
    for day, contact, family, segment, key in query(
        db,
        "select as_of_date, contact_id, segment_family, segment, segment_key"
        " from main.segment_membership_history",
    ):
        members[day].add((contact, family, segment))
        keys[(contact, family, segment)] = key
    days = sorted(members)
    changes: set[tuple] = set()
    for previous, day in zip(days, days[1:], strict=False):
        for contact, family, segment in members[day] - members[previous]:
            changes.add((day, previous, contact, family, segment, "entered"))
        for contact, family, segment in members[previous] - members[day]:
            changes.add((day, previous, contact, family, segment, "exited"))
    return changes


def test_changes_follow_the_history_after_a_backfill(warehouse: Path) -> None:
    days = [
        row[0]
        for row in query(
            warehouse, "select distinct as_of_date from main.segment_membership_history order by 1"
        )
    ]
    assert [str(day) for day in days] == sorted(DAYS)
    actual = query(
        warehouse,
        "select as_of_date, previous_as_of_date, contact_id, segment_family, segment, change_type"
        " from main.segment_membership_changes",
    )
    assert len(actual) == len(set(actual))
    expected = expected_changes(warehouse)
    assert expected, "the three days should differ"
    assert set(actual) == expected, (
        f"{len(set(actual) - expected)} unexpected, {len(expected - set(actual))} missing;"
        f" e.g. {sorted(set(actual) - expected)[:3]} / {sorted(expected - set(actual))[:3]}"
    )


def test_full_refresh_keeps_the_history_and_recomputes_every_change(
    built: tuple[Path, Path],
) -> None:
    store, db = built
    history = "select * from main.segment_membership_history order by all"
    before = query(db, history)
    result = run_build(
        store,
        DAYS[0],
        db.parent,
        with_tests=False,
        keep_warehouse=True,
        extra_args=["--full-refresh"],
    )
    result.check()
    assert query(db, history) == before
    actual = query(
        db,
        "select as_of_date, previous_as_of_date, contact_id, segment_family, segment, change_type"
        " from main.segment_membership_changes",
    )
    assert set(actual) == expected_changes(db)
