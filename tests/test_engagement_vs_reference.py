"""customer_engagement, customer_scores and customer_profile agree with the pandas reference of
SPEC sections 4 to 6 (``tests/reference/engagement.py``), contact by contact, on the session's
demo store (3,000 contacts, seed 11, as of 2025-06-30) with default vars and with other vars; the
new columns of customer_segments and the new families of segment_membership follow the marts.

Reuses the session's demo build (see conftest); adds one build with non-default vars.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import (
    DEMO_AS_OF,
    ROOT,
    BuildPool,
    build_warehouse,
    query,
    query_frame,
    ref,
    submit_demo_build,
)

# Builds the dbt project: left out of `make quick` (pytest -m 'not e2e').
pytestmark = pytest.mark.e2e

try:
    from tests.reference import engagement as eng
except ModuleNotFoundError:  # tests/ itself is on sys.path
    from reference import engagement as eng

ENGAGEMENT_VARS: dict[str, Any] = {
    "engagement_window_days": 60,
    "super_active_open_rate": 0.5,
    "super_active_min_sends": 2,
}
SCORE_VARS: dict[str, Any] = {
    "score_window_days": 45,
    "score_half_life_days": 7,
    "score_cap": 60,
    "score_hot_min": 20,
    "score_warm_min": 5,
}
PROFILE_VARS: dict[str, Any] = {
    "store_radius_km": 5.5,
    "behaviour_window_days": 14,
    "funnel_window_days": 10,
}
CUSTOM_VARS = {**ENGAGEMENT_VARS, **SCORE_VARS, **PROFILE_VARS}
#: the non-default build is also as of an earlier date: later events must not count
CUSTOM_AS_OF = "2025-03-15"

ENGAGEMENT_COLUMNS = (
    "engagement_level",
    "is_email_reachable",
    "is_unsubscribed",
    "is_hard_bounced",
    "sends_count",
    "opened_sends_count",
    "opens_count",
    "clicks_count",
    "open_rate",
    "last_opened_at",
)
SCORE_COLUMNS = (
    "nurturing_score",
    "score_band",
    "scored_interactions_count",
    "uncapped_points",
    *(f"{kind}_points" for kind in eng.DEFAULT_WEIGHTS),
)
PROFILE_COLUMNS = (
    "age",
    "age_band",
    "persona",
    "nearest_store_id",
    "distance_to_store_km",
    "is_within_store_radius",
    "average_order_value",
    "sessions_count",
    "products_viewed_count",
    "time_on_site_seconds",
    "funnel_stage",
    "favourite_category",
)
#: numbers compared with a tolerance: the marts round (rate 4 decimals, points 2, km 3)
TOLERANCE = {
    "open_rate": 1e-4,
    "nurturing_score": 0.0101,
    "uncapped_points": 0.0101,
    "distance_to_store_km": 0.0011,
    "average_order_value": Decimal("0.0001"),
    **{f"{kind}_points": 0.0101 for kind in eng.DEFAULT_WEIGHTS},
}


def submit_builds(builds: BuildPool, build_root: Path) -> None:
    """The demo build (shared) and one build of the same store with non-default vars."""
    demo = submit_demo_build(builds, build_root)
    builds.submit(
        "engagement_custom_vars",
        lambda: build_warehouse(
            demo.result()[0],
            CUSTOM_AS_OF,
            build_root / "engagement_custom_vars",
            vars=CUSTOM_VARS,
            # with every data and unit test: a user's own vars must not fail the unit tests,
            # which pin the vars they are written for
            with_tests=True,
            unit_tests=True,
        ),
    )


@pytest.fixture(scope="module", autouse=True)
def _submit_builds(builds: BuildPool, build_root: Path) -> None:
    submit_builds(builds, build_root)


@pytest.fixture(scope="module")
def activity_data(demo_store: Path, demo_reference_data) -> dict[str, pd.DataFrame]:
    data = dict(demo_reference_data)
    data.update(eng.load_activity(demo_store))
    return data


def _seed_lists() -> tuple[list[tuple[str, float, float]], list[tuple[str, str | None]]]:
    """The shop's own lists (stores, persona cities) as the seeds give them."""
    stores = pd.read_csv(ROOT / "seeds" / "store_locations.csv")
    cities = pd.read_csv(ROOT / "seeds" / "persona_cities.csv", keep_default_na=False)
    return (
        [(r.store_id, float(r.latitude), float(r.longitude)) for r in stores.itertuples()],
        [(r.city, r.country_code or None) for r in cities.itertuples()],
    )


def _reference(
    data: Mapping[str, pd.DataFrame], as_of: str, vars: Mapping[str, Any]
) -> dict[str, Any]:
    stores, cities = _seed_lists()
    pick = lambda names: {k: v for k, v in vars.items() if k in names}  # noqa: E731
    return {
        "customer_engagement": eng.compute_engagement(data, as_of, **pick(ENGAGEMENT_VARS)),
        "customer_scores": eng.compute_scores(data, as_of, **pick(SCORE_VARS)),
        "customer_profile": eng.compute_profile(
            data, as_of, stores=stores, persona_cities=cities, **pick(PROFILE_VARS)
        ),
    }


def _same(column: str, actual: Any, expected: Any) -> bool:
    if ref._is_missing(actual) or ref._is_missing(expected):
        return ref._is_missing(actual) and ref._is_missing(expected)
    if column == "last_opened_at":
        stamp = pd.Timestamp(expected)
        stamp = stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp
        return pd.Timestamp(actual) == stamp
    if column in TOLERANCE:
        tolerance = TOLERANCE[column]
        if isinstance(tolerance, Decimal):
            return abs(Decimal(str(actual)) - Decimal(str(expected))) <= tolerance
        return math.isclose(float(actual), float(expected), abs_tol=tolerance)
    if isinstance(expected, bool):
        return bool(actual) is expected
    if isinstance(expected, int | float):
        return float(actual) == float(expected)
    return str(actual) == str(expected)


def _differences(db: Path, mart: str, expected: pd.DataFrame, columns: tuple[str, ...]) -> list:
    actual = query_frame(db, f"select contact_id, {', '.join(columns)} from main.{mart}")
    actual = actual.set_index("contact_id")
    expected = expected.set_index("contact_id")
    problems: list[str] = []
    if set(actual.index) != set(expected.index):
        problems.append(
            f"[{mart}] contacts differ: {len(set(actual.index) - set(expected.index))} only in"
            f" the mart, {len(set(expected.index) - set(actual.index))} only in the reference"
        )
        return problems
    per_column: Counter[str] = Counter()
    examples: list[str] = []
    for column in columns:
        for contact_id, value in expected[column].items():
            mart_value = actual.at[contact_id, column]
            if not _same(column, mart_value, value):
                per_column[column] += 1
                if len(examples) < 10:
                    examples.append(f"  {contact_id} {column}: {mart_value!r} vs {value!r}")
    if per_column:
        problems.append(f"[{mart}] differences by column: {dict(per_column)}")
        problems.extend(examples)
    return problems


def _assert_marts_match(db: Path, expected: Mapping[str, pd.DataFrame], what: str) -> None:
    problems: list[str] = []
    for mart, columns in (
        ("customer_engagement", ENGAGEMENT_COLUMNS),
        ("customer_scores", SCORE_COLUMNS),
        ("customer_profile", PROFILE_COLUMNS),
    ):
        problems += _differences(db, mart, expected[mart], columns)
    assert not problems, f"{what} (warehouse vs reference):\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def default_reference(activity_data) -> dict[str, pd.DataFrame]:
    return _reference(activity_data, DEMO_AS_OF, {})


def test_default_build_matches_reference(demo_warehouse: Path, default_reference) -> None:
    # the store is realistic: every level, band, persona, funnel stage and radius side occurs
    engagement = default_reference["customer_engagement"]
    scores = default_reference["customer_scores"]
    profile = default_reference["customer_profile"]
    assert set(engagement["engagement_level"]) == set(eng.ENGAGEMENT_LEVELS)
    assert set(scores["score_band"]) == {"hot", "warm", "cold"}
    assert set(profile["persona"].dropna()) == {"young_urban", "families", "seniors"}
    assert set(profile["funnel_stage"].dropna()) == set(eng.FUNNEL_STAGES)
    assert set(profile["is_within_store_radius"].dropna()) == {True, False}
    assert engagement["is_hard_bounced"].any() and engagement["is_unsubscribed"].any()
    assert (scores["nurturing_score"] == 100).any(), "some contact reaches the cap"
    _assert_marts_match(demo_warehouse, default_reference, "demo store, default vars")


def test_non_default_vars_and_earlier_date_match_reference(
    builds: BuildPool, activity_data
) -> None:
    db = builds.result("engagement_custom_vars")
    expected = _reference(activity_data, CUSTOM_AS_OF, CUSTOM_VARS)
    # the vars matter: the levels and bands still all occur, with other sizes
    assert set(expected["customer_engagement"]["engagement_level"]) == set(eng.ENGAGEMENT_LEVELS)
    assert set(expected["customer_scores"]["score_band"]) == {"hot", "warm", "cold"}
    assert (expected["customer_scores"]["nurturing_score"] == 60).any(), "the cap of 60 is hit"
    _assert_marts_match(db, expected, f"as of {CUSTOM_AS_OF}, vars {CUSTOM_VARS}")


def test_customer_segments_carry_the_new_labels(demo_warehouse: Path) -> None:
    columns = {
        "customer_engagement": ("engagement_level", "sends_count", "open_rate"),
        "customer_scores": ("nurturing_score", "score_band"),
        "customer_profile": ("age_band", "persona", "is_within_store_radius", "funnel_stage"),
    }
    for mart, names in columns.items():
        joined = " or ".join(f"segments.{c} is distinct from mart.{c}" for c in names)
        rows = query(
            demo_warehouse,
            f"select count(*) from main.customer_segments as segments"
            f" full join main.{mart} as mart on segments.contact_id = mart.contact_id"
            f" where segments.contact_id is null or mart.contact_id is null or {joined}",
        )
        assert rows == [(0,)], f"customer_segments disagrees with {mart}: {rows}"


def test_membership_families_follow_the_marts(demo_warehouse: Path, default_reference) -> None:
    membership = query_frame(
        demo_warehouse,
        "select contact_id, segment_family, segment, segment_key from main.segment_membership"
        " where segment_family in"
        " ('engagement', 'score_band', 'persona', 'funnel_stage', 'within_radius')",
    )
    got = {(row.contact_id, row.segment_family): row.segment for row in membership.itertuples()}
    expected: dict[tuple[str, str], str] = {}
    for row in default_reference["customer_engagement"].itertuples():
        expected[(row.contact_id, "engagement")] = row.engagement_level
    for row in default_reference["customer_scores"].itertuples():
        expected[(row.contact_id, "score_band")] = row.score_band
    for row in default_reference["customer_profile"].itertuples():
        if not ref._is_missing(row.persona):
            expected[(row.contact_id, "persona")] = row.persona
        if not ref._is_missing(row.funnel_stage):
            expected[(row.contact_id, "funnel_stage")] = row.funnel_stage
        if not ref._is_missing(row.is_within_store_radius):
            side = "within_radius" if row.is_within_store_radius else "outside_radius"
            expected[(row.contact_id, "within_radius")] = side
    assert len(membership) == len(got), "one row per contact and family"
    only_here = set(got.items()) - set(expected.items())
    only_expected = set(expected.items()) - set(got.items())
    assert not only_here and not only_expected, (
        f"{len(only_here)} membership rows not expected, e.g. {sorted(only_here)[:5]};"
        f" {len(only_expected)} missing, e.g. {sorted(only_expected)[:5]}"
    )
    keys = set(membership["segment_key"])
    assert {"engagement:super_active", "score_band:hot", "persona:young_urban"} <= keys
    assert {"funnel_stage:started_checkout", "within_radius:within_radius"} <= keys


def test_reference_reads_spec_boundaries() -> None:
    """The reference itself at the boundaries the unit tests pin down in SQL."""
    as_of = dt.date(2024, 6, 30)
    assert eng.age_on(dt.date(1989, 6, 30), as_of) == 35
    assert eng.age_on(dt.date(1989, 7, 1), as_of) == 34
    assert eng.age_on(dt.date(2000, 2, 29), dt.date(2023, 2, 28)) == 22
    assert eng.age_on(dt.date(2024, 7, 1), as_of) is None
    assert eng.persona(35, in_city=True) == "young_urban"
    assert eng.persona(35, in_city=False) == "families"
    assert eng.persona(50, in_city=False) == "families"
    assert eng.persona(51, in_city=True) == "seniors"
    assert eng.persona(17, in_city=True) is None
    assert [eng.age_band(a) for a in (17, 18, 24, 25, 64, 65, None)] == [
        "unknown",
        "18-24",
        "18-24",
        "25-34",
        "55-64",
        "65+",
        "unknown",
    ]
    assert round(eng.haversine_km(0.0, 0.0, 1.0, 0.0), 3) == 111.195


def test_membership_reachability_follows_the_engagement_rule(
    demo_warehouse: Path, default_reference
) -> None:
    """What activation may email (segment_membership.is_email_reachable) is the reference's
    reachability (SPEC 4: email, consent, not unsubscribed, not hard-bounced) on every row."""
    membership = query_frame(
        demo_warehouse,
        "select distinct contact_id, is_email_reachable from main.segment_membership",
    )
    got = dict(zip(membership["contact_id"], membership["is_email_reachable"], strict=True))
    engagement = default_reference["customer_engagement"]
    expected = dict(zip(engagement["contact_id"], engagement["is_email_reachable"], strict=True))
    assert set(got) <= set(expected)
    wrong = sorted(c for c in got if bool(got[c]) != bool(expected[c]))
    assert not wrong, f"{len(wrong)} contacts disagree on reachability, e.g. {wrong[:5]}"
    assert 0 < sum(map(bool, got.values())) < len(got)
