"""Independent reference of SPEC section 10's purchase intent tiers and backtest, written from SPEC.

It does not import the project's code: the forecast uses this package's own BG/NBD and Gamma-Gamma
(``tests/reference/predictive.py``), the actual transactions and revenue are counted with pandas
from the cleaned raw contract, and the AUC is counted pair by pair (Mann-Whitney: the share of
(buyer, non-buyer) pairs the score puts in the right order, ties one half).

- purchase_intent: share of rank s = (rank - 1) / N over every contact with a propensity, rank over
  the propensity descending, ties sharing the lowest rank: very_high (s < 0.1), high (< 0.3), medium
  (< 0.6), low.
- Backtest, per as-of date D and horizon h (90 days): fit as of D - h on the valid orders up to
  D - h, forecast each customer's transactions (and revenue: transactions times the expected order
  value) over (D - h, D], compare with what happened. Deciles: the customers sorted by forecast
  descending (ties in contact_id order), row k of N in decile 1 + floor(10 (k - 1) / N); per decile
  and in total, the sums and the error 100 (predicted - actual) / actual.
- Calibration: the same deciles over the classifier's held-out contacts by propensity; per decile
  the mean propensity and the share that ordered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from . import predictive as pref
from .segments import clean_raw_contract

INTENT_CUTS = [("very_high", "0.1"), ("high", "0.3"), ("medium", "0.6")]


def purchase_intent(propensities: pd.Series, cuts=INTENT_CUTS) -> pd.Series:
    """Tiers of every contact with a propensity (null propensities get no tier)."""
    known = propensities.dropna()
    tiers = pd.Series([None] * len(propensities), index=propensities.index, dtype=object)
    if len(known):
        tiers.loc[known.index] = pref.share_tiers(known, list(cuts), "low")
    return tiers


def valid_orders_between(data: dict[str, pd.DataFrame], after: dt.date, until: dt.date):
    """Valid orders (completed, positive net amount) whose UTC day is in (after, until]."""
    orders = clean_raw_contract(data)["orders"]
    day = pd.to_datetime(orders["ordered_at"], utc=True).dt.date
    amount = orders["amount_net"].astype(float)
    keep = (orders["status"] == "completed") & (amount > 0) & (day > after) & (day <= until)
    return pd.DataFrame(
        {"contact_id": orders.loc[keep, "contact_id"], "day": day[keep], "amount": amount[keep]}
    )


def deciles(values: pd.Series, contact_ids: pd.Series) -> pd.Series:
    """1 + floor(10 (k - 1) / N), k the row in (value descending, contact_id ascending) order."""
    frame = pd.DataFrame({"value": values.to_numpy(), "contact_id": contact_ids.to_numpy()})
    order = frame.sort_values(["value", "contact_id"], ascending=[False, True], kind="mergesort")
    n = len(frame)
    result = pd.Series(0, index=frame.index, dtype=int)
    result.loc[order.index] = [1 + (10 * k) // n for k in range(n)]
    return pd.Series(result.to_numpy(), index=values.index)


def error_pct(predicted: float, actual: float) -> float:
    return float("nan") if actual == 0 else 100.0 * (predicted - actual) / actual


def backtest_orders(
    data: dict[str, pd.DataFrame], as_of_date: Any, horizon_days: int = 90
) -> pd.DataFrame:
    """Per decile (1-10) and in total (decile None): customers, predicted and actual transactions
    and revenue, and the errors in %."""
    as_of = dt.date.fromisoformat(str(as_of_date))
    fitted_as_of = as_of - dt.timedelta(days=horizon_days)
    summary = pref.summarise_transactions(data, fitted_as_of)
    bg_nbd, _ = pref.fit_bg_nbd(summary)
    gamma_gamma, _ = pref.fit_gamma_gamma(summary)
    predicted, revenue = [], []
    for row in summary.itertuples():
        orders = pref.expected_transactions(bg_nbd, horizon_days, row.x, row.t_x, row.T)
        predicted.append(orders)
        revenue.append(orders * pref.expected_order_value(gamma_gamma, row.x, row.m_x))
    summary = summary.assign(predicted=predicted, predicted_revenue=revenue)
    happened = valid_orders_between(data, fitted_as_of, as_of)
    actual = happened.groupby("contact_id").agg(
        actual=("day", "nunique"), actual_revenue=("amount", "sum")
    )
    summary = summary.merge(actual, how="left", left_on="contact_id", right_index=True)
    summary[["actual", "actual_revenue"]] = summary[["actual", "actual_revenue"]].fillna(0)
    summary["decile"] = deciles(summary["predicted"], summary["contact_id"])
    rows = []
    for decile, group in [*summary.groupby("decile"), (None, summary)]:
        rows.append(
            {
                "decile": decile,
                "customers": len(group),
                "predicted_orders": float(group["predicted"].sum()),
                "actual_orders": int(group["actual"].sum()),
                "predicted_revenue": float(group["predicted_revenue"].sum()),
                "actual_revenue": float(group["actual_revenue"].sum()),
            }
        )
    result = pd.DataFrame(rows)
    result["orders_error_pct"] = [
        error_pct(p, a) for p, a in zip(result.predicted_orders, result.actual_orders, strict=True)
    ]
    result["revenue_error_pct"] = [
        error_pct(p, a)
        for p, a in zip(result.predicted_revenue, result.actual_revenue, strict=True)
    ]
    return result


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """The share of (positive, negative) pairs with the positive scored higher, ties one half."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=float)
    positives, negatives = scores[labels], scores[~labels]
    higher = (positives[:, None] > negatives[None, :]).sum()
    ties = (positives[:, None] == negatives[None, :]).sum()
    return float((higher + 0.5 * ties) / (len(positives) * len(negatives)))


def calibration(held_out: pd.DataFrame) -> pd.DataFrame:
    """Per decile of propensity (and in total, decile None): contacts, mean propensity, share that
    ordered. ``held_out`` has contact_id, propensity and ordered."""
    frame = held_out.assign(decile=deciles(held_out["propensity"], held_out["contact_id"]))
    rows = []
    for decile, group in [*frame.groupby("decile"), (None, frame)]:
        rows.append(
            {
                "decile": decile,
                "propensity_contacts": len(group),
                "mean_predicted_propensity": float(group["propensity"].mean()),
                "observed_purchase_rate": float(group["ordered"].astype(float).mean()),
            }
        )
    return pd.DataFrame(rows)
