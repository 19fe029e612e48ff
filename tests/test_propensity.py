"""SPEC section 10's purchase propensity and backtest, held to the independent reference
(``tests/reference/backtest.py``, and the segment, engagement and score references for the
features).

- Without a build: the tier rule at its boundaries, the classifier's determinism (the same contacts
  in another order give the same model and AUC) and its statuses with too little data.
- On the session's demo store (3,000 contacts, the ``demo_warehouse`` build): the training
  features follow sections 1-5 as of the training date and the scoring ones as of the as-of date,
  the label counts the valid orders in between, every contact has a propensity and the intent tier
  of the rank rule, the fit row's AUC is the held-out contacts' AUC, and predictive_backtest's
  deciles and totals are the reference's.

The CDNOW backtest and the too-little-data build are in ``tests/test_predictive.py`` (its builds).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_AS_OF, BuildPool, query_frame, ref, submit_demo_build

from segment_warehouse import propensity

try:
    from tests.reference import backtest as bref
    from tests.reference import engagement as eng
    from tests.support.backtest import assert_backtest_matches, assert_calibration_matches
except ModuleNotFoundError:  # tests/ itself is on sys.path
    from reference import backtest as bref
    from reference import engagement as eng
    from support.backtest import assert_backtest_matches, assert_calibration_matches

HORIZON = 30


def submit_builds(builds: BuildPool, build_root: Path) -> None:
    submit_demo_build(builds, build_root)


# --------------------------------------------------------------------------------------------
# Without a build
# --------------------------------------------------------------------------------------------


def test_reference_intent_tiers_at_the_boundaries() -> None:
    """N = 10: s = 0.1, 0.3 and 0.6 are not below their cut; ties share the lowest rank."""
    values = pd.Series([0.9, 0.8, 0.7, 0.6, 0.5, 0.5, 0.3, 0.2, 0.1, 0.1, None])
    assert list(bref.purchase_intent(values)) == [
        "very_high",
        "high",
        "high",
        "medium",
        "medium",
        "medium",
        "low",
        "low",
        "low",
        "low",
        None,
    ]


def synthetic_training(contacts: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    orders = rng.poisson(1.0, contacts)
    frame = pd.DataFrame(
        {
            "contact_id": [f"c{i:04d}" for i in range(contacts)],
            "recency_days": np.where(orders > 0, rng.integers(0, 400, contacts), np.nan),
            "frequency": orders,
            "monetary": orders * rng.gamma(2.0, 30.0, contacts),
            "orders_count": orders,
            "days_since_last_order": np.where(orders > 0, rng.integers(0, 400, contacts), np.nan),
            "tenure_days": rng.integers(0, 900, contacts),
            "lifecycle_stage": np.where(orders > 0, "active", "prospect"),
            "sends_count": rng.poisson(4, contacts),
            "opened_sends_count": rng.poisson(1, contacts),
            "opens_count": rng.poisson(1, contacts),
            "clicks_count": rng.poisson(0.3, contacts),
            "sessions_count": rng.poisson(2, contacts),
            "products_viewed_count": rng.poisson(3, contacts),
            "time_on_site_seconds": rng.poisson(300, contacts),
            "has_added_to_cart": rng.random(contacts) < 0.2,
            "has_started_checkout": rng.random(contacts) < 0.1,
            "nurturing_score": rng.uniform(0, 60, contacts),
        }
    )
    signal = 0.05 * frame["nurturing_score"] + 0.8 * frame["frequency"] - 3
    frame["has_order_in_horizon"] = rng.random(contacts) < 1 / (1 + np.exp(-signal))
    return frame


def test_the_classifier_is_deterministic() -> None:
    """Two fits of the same contacts, the second in shuffled row order, give the same model to the
    bit, the same held-out contacts and the same AUC; the scores are probabilities."""
    training = synthetic_training()
    first = propensity.fit_propensity(training, seed=42, holdout_share=0.25, min_contacts=200)
    shuffled = training.sample(frac=1.0, random_state=5)
    second = propensity.fit_propensity(shuffled, seed=42, holdout_share=0.25, min_contacts=200)
    assert first.status == second.status == "fitted"
    assert first.model_json == second.model_json
    assert first.auc == second.auc and 0.5 < first.auc <= 1
    assert first.holdout_contacts == second.holdout_contacts
    held = propensity.holdout_mask(training["contact_id"], 42, 0.25)
    held_shuffled = propensity.holdout_mask(shuffled["contact_id"], 42, 0.25)
    assert set(training.loc[held, "contact_id"]) == set(shuffled.loc[held_shuffled, "contact_id"])
    scores = propensity.score(first.model_json, training)
    assert ((scores > 0) & (scores < 1)).all()
    assert np.array_equal(scores, propensity.score(second.model_json, training))
    model = json.loads(first.model_json)
    assert len(model["coefficients"]) == len(model["features"])


def test_too_little_data_is_a_status_not_a_failure() -> None:
    training = synthetic_training()
    few = propensity.fit_propensity(training, seed=42, holdout_share=0.25, min_contacts=601)
    assert few.status == "too_few_contacts" and few.model_json is None and few.auc is None
    assert "fewer than var propensity_min_contacts (601)" in few.message
    none = training.assign(has_order_in_horizon=False)
    no_positives = propensity.fit_propensity(none, seed=42, holdout_share=0.25, min_contacts=1)
    assert no_positives.status == "no_positives" and no_positives.model_json is None
    everyone = training.assign(has_order_in_horizon=True)
    no_negatives = propensity.fit_propensity(everyone, seed=42, holdout_share=0.25, min_contacts=1)
    assert no_negatives.status == "no_negatives"


def test_reference_auc_counts_pairs() -> None:
    labels = np.array([True, False, True, False, False])
    scores = np.array([0.9, 0.8, 0.5, 0.5, 0.1])
    # pairs (positive, negative): 0.9 beats 3, 0.5 beats 0.1, ties 0.5 once: (3 + 1 + 0.5) / 6
    assert bref.auc(labels, scores) == pytest.approx(4.5 / 6)
    assert propensity.roc_auc(labels, scores) == pytest.approx(4.5 / 6)


# --------------------------------------------------------------------------------------------
# The session's demo store
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_activity(demo_store: Path, demo_reference_data: dict) -> dict:
    data = dict(demo_reference_data)
    data.update(eng.load_activity(demo_store))
    return data


def reference_features(data: dict, day: dt.date) -> pd.DataFrame:
    segments = ref.compute_segments(data, day)
    engagement = eng.compute_engagement(data, day)
    scores = eng.compute_scores(data, day)
    return (
        segments[
            [
                "contact_id",
                "recency_days",
                "frequency",
                "monetary",
                "orders_count",
                "days_since_last_order",
                "lifecycle_stage",
            ]
        ]
        .merge(
            engagement[["contact_id", "sends_count", "opened_sends_count", "opens_count"]],
            on="contact_id",
        )
        .merge(scores[["contact_id", "nurturing_score"]], on="contact_id")
    )


@pytest.mark.e2e
@pytest.mark.parametrize("state", ["training", "scoring"])
def test_demo_features_follow_the_rules_at_their_date(
    demo_warehouse: Path, demo_activity: dict, state: str
) -> None:
    """The training state is computed by sections 1-5 as of the as-of date minus 30 days, the
    scoring state as of the as-of date: the same contacts and the same values as the references
    computed at those dates."""
    as_of = dt.date.fromisoformat(DEMO_AS_OF)
    day = as_of - dt.timedelta(days=HORIZON) if state == "training" else as_of
    got = query_frame(
        demo_warehouse,
        "select * from intermediate.int_contacts_featured_for_propensity"
        f" where feature_state = '{state}'",
    )
    expected = reference_features(demo_activity, day)
    assert sorted(got["contact_id"]) == sorted(expected["contact_id"])
    assert (pd.to_datetime(got["feature_date"]).dt.date == day).all()
    merged = got.merge(expected, on="contact_id", suffixes=("", "_ref"))
    for column in (
        "recency_days",
        "frequency",
        "orders_count",
        "days_since_last_order",
        "sends_count",
        "opened_sends_count",
        "opens_count",
    ):
        a = merged[column].astype("Float64")
        b = merged[f"{column}_ref"].astype("Float64")
        differ = ~((a == b).fillna(False) | (a.isna() & b.isna()))
        assert not differ.any(), merged.loc[differ, ["contact_id", column, f"{column}_ref"]]
    for column in ("monetary", "nurturing_score"):
        a = merged[column].astype(float).to_numpy()
        b = merged[f"{column}_ref"].astype(float).to_numpy()
        assert np.allclose(a, b, atol=0.006), column
    assert (merged["lifecycle_stage"] == merged["lifecycle_stage_ref"]).all()


@pytest.mark.e2e
def test_demo_label_is_a_valid_order_in_the_horizon(
    demo_warehouse: Path, demo_reference_data: dict
) -> None:
    as_of = dt.date.fromisoformat(DEMO_AS_OF)
    training = query_frame(
        demo_warehouse,
        "select contact_id, has_order_in_horizon"
        " from intermediate.int_contacts_featured_for_propensity"
        " where feature_state = 'training'",
    )
    orders = bref.valid_orders_between(
        demo_reference_data, as_of - dt.timedelta(days=HORIZON), as_of
    )
    expected = training["contact_id"].isin(set(orders["contact_id"]))
    assert (training["has_order_in_horizon"] == expected).all()
    assert 0 < expected.sum() < len(training)


@pytest.mark.e2e
def test_demo_propensity_intent_and_fit_row(demo_warehouse: Path) -> None:
    """Every contact has a propensity; purchase_intent is the reference's rank rule over them; the
    fit row is fitted on the training contacts with the held-out contacts' AUC; customer_segments
    and segment_membership carry the tier."""
    got = query_frame(demo_warehouse, "select * from customer_predictions")
    assert got["purchase_propensity_30d"].between(0, 1).all()
    expected = bref.purchase_intent(got["purchase_propensity_30d"])
    assert (got["purchase_intent"] == expected).all()
    counts = got["purchase_intent"].value_counts()
    assert counts["very_high"] == pytest.approx(0.1 * len(got), abs=2)

    fit = query_frame(
        demo_warehouse,
        "select * from predictive_model_fits where model_name = 'purchase_propensity'",
    ).iloc[0]
    scored = query_frame(
        demo_warehouse,
        "select * from intermediate.int_contacts_scored_propensity"
        " where feature_state = 'training'",
    )
    held = scored[scored["is_holdout"]]
    assert fit["fit_status"] == "fitted" and bool(fit["converged"])
    assert fit["customers"] == len(scored)
    assert fit["auc"] == pytest.approx(
        bref.auc(held["has_order_in_horizon"].to_numpy(), held["purchase_propensity"].to_numpy())
    )
    assert 0.6 < fit["auc"] <= 1
    assert len(held) == pytest.approx(0.25 * len(scored), rel=0.15)

    membership = query_frame(
        demo_warehouse,
        "select contact_id, segment from segment_membership"
        " where segment_family = 'purchase_intent'",
    )
    assert len(membership) == len(got)
    tiers = dict(zip(got["contact_id"], got["purchase_intent"], strict=True))
    assert all(tiers[row.contact_id] == row.segment for row in membership.itertuples())
    segments = query_frame(
        demo_warehouse, "select contact_id, purchase_intent from customer_segments"
    )
    assert all(tiers[row.contact_id] == row.purchase_intent for row in segments.itertuples())


@pytest.mark.e2e
def test_demo_backtest_matches_the_reference(demo_warehouse: Path, demo_reference_data: dict):
    got = assert_backtest_matches(demo_warehouse, demo_reference_data, DEMO_AS_OF)
    assert_calibration_matches(demo_warehouse)
    total = got[got["decile"].isna()].iloc[0]
    assert total.customers == got["customers"].drop(total.name).sum()
