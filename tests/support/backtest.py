"""predictive_backtest held to the independent reference (``tests/reference/backtest.py``): the
checks the demo store's and the CDNOW sample's builds share."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

try:
    from tests.reference import backtest as bref
except ModuleNotFoundError:  # tests/ itself is on sys.path
    from reference import backtest as bref


def query_frame(db: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchdf()


def assert_backtest_matches(db: Path, data: dict, as_of: str) -> pd.DataFrame:
    """predictive_backtest's deciles and total against the reference: customers and actual orders
    exactly, the forecast to 0.1% (two fits of the same likelihood), revenue to the cent."""
    got = query_frame(db, "select * from predictive_backtest").sort_values("decile")
    expected = bref.backtest_orders(data, as_of)
    got_rows = {None if pd.isna(row.decile) else int(row.decile): row for row in got.itertuples()}
    assert set(got_rows) == set(range(1, 11)) | {None}
    for row in expected.itertuples():
        key = None if row.decile is None or pd.isna(row.decile) else int(row.decile)
        mine = got_rows[key]
        assert mine.customers == row.customers, key
        assert mine.actual_orders == row.actual_orders, key
        assert mine.actual_revenue == pytest.approx(row.actual_revenue, abs=0.01), key
        assert mine.predicted_orders == pytest.approx(row.predicted_orders, rel=1e-3, abs=1e-6)
        assert mine.predicted_revenue == pytest.approx(row.predicted_revenue, rel=1e-3, abs=1e-6)
        if row.actual_orders:
            assert mine.orders_error_pct == pytest.approx(row.orders_error_pct, abs=0.2)
    assert (got["horizon_days"] == 90).all()
    fitted = dt.date.fromisoformat(as_of) - dt.timedelta(days=90)
    assert (pd.to_datetime(got["fitted_as_of_date"]).dt.date == fitted).all()
    return got


def assert_calibration_matches(db: Path) -> None:
    held = query_frame(
        db,
        "select contact_id, purchase_propensity as propensity, has_order_in_horizon as ordered"
        " from intermediate.int_contacts_scored_propensity"
        " where feature_state = 'training' and is_holdout",
    )
    expected = bref.calibration(held)
    got = query_frame(db, "select * from predictive_backtest")
    for row in expected.itertuples():
        same = got["decile"].isna() if pd.isna(row.decile) else got["decile"] == row.decile
        mine = got[same].iloc[0]
        assert mine.propensity_contacts == row.propensity_contacts
        assert mine.mean_predicted_propensity == pytest.approx(row.mean_predicted_propensity)
        assert mine.observed_purchase_rate == pytest.approx(row.observed_purchase_rate)
    auc = bref.auc(held["ordered"].to_numpy(), held["propensity"].to_numpy())
    assert got["propensity_auc"].to_numpy() == pytest.approx(auc)
