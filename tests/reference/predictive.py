"""Independent reference of SPEC section 10 (predictive segments), written from SPEC and the papers.

It does not import the project's code (``segment_warehouse.predictive`` or the dbt models): the
transaction summary is computed with pandas from the cleaned raw contract, the likelihoods are
written out term by term as printed in the papers, the conditional expectation uses the paper's
Gaussian hypergeometric function as printed (evaluated with mpmath at 30 digits, so it holds for
customers with hundreds of transactions, where double precision overflows), and the tiers are
ranked with pandas and compared with exact fractions.

- BG/NBD: Fader, Hardie and Lee (2005), Marketing Science 24(2), equations (6) and (10), and the
  note "Computing P(alive) using the BG/NBD model".
- Gamma-Gamma: Fader, Hardie and Lee (2005), JMR 42(4), and Fader and Hardie (2013), "The
  Gamma-Gamma model of monetary value".
"""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import gammaln

from .segments import clean_raw_contract

mpmath.mp.dps = 30

DEFAULTS = {
    "predictive_min_customers": 200,
    "churn_risk_low_min_p_alive": "0.7",
    "churn_risk_medium_min_p_alive": "0.3",
    "value_tier_top_max_share": "0.2",
    "value_tier_high_max_share": "0.5",
    "value_tier_medium_max_share": "0.8",
}


# --------------------------------------------------------------------------------------------
# x, t_x, T and m_x per customer
# --------------------------------------------------------------------------------------------


def summarise_transactions(
    data: dict[str, pd.DataFrame], as_of_date: Any, fit_window_days: int | None = None
) -> pd.DataFrame:
    """Per customer: x (transactions after the first), t_x and T in days, m_x (mean amount of
    the repeat transactions), from valid orders on or before the as-of date, orders of the same
    UTC day counted as one transaction with their amounts summed."""
    clean = clean_raw_contract(data)
    as_of = pd.Timestamp(as_of_date).date()
    orders = clean["orders"]
    day = pd.to_datetime(orders["ordered_at"], utc=True).dt.tz_convert("UTC").dt.date
    amount = orders["amount_net"].astype(float)
    valid = (orders["status"] == "completed") & (amount > 0) & (day <= as_of)
    if fit_window_days is not None:
        valid &= day.map(lambda d: (as_of - d).days) <= fit_window_days
    transactions = (
        pd.DataFrame({"contact_id": orders["contact_id"], "day": day, "amount": amount})[valid]
        .groupby(["contact_id", "day"], as_index=False)["amount"]
        .sum()
        .sort_values(["contact_id", "day"])
    )
    rows = []
    for contact_id, group in transactions.groupby("contact_id", sort=True):
        days = list(group["day"])
        amounts = list(group["amount"])
        rows.append(
            {
                "contact_id": contact_id,
                "x": len(days) - 1,
                "t_x": (days[-1] - days[0]).days,
                "T": (as_of - days[0]).days,
                "m_x": float(np.mean(amounts[1:])) if len(amounts) > 1 else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=["contact_id", "x", "t_x", "T", "m_x"])


# --------------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------------


def bg_nbd_log_likelihood(params, x, t_x, T, n=None) -> float:
    """Sum over customers (each weighted by n, its multiplicity) of ln L(r, alpha, a, b | x, t_x,
    T),
    FHL 2005 equation (6):
    L = B(a, b+x)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+T)^(r+x))
        + delta(x>0) B(a+1, b+x-1)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+t_x)^(r+x))."""
    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    n = np.ones_like(x) if n is None else np.asarray(n, dtype=float)
    ln_beta_ab = gammaln(a) + gammaln(b) - gammaln(a + b)
    ln_gamma_part = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    term1 = (
        gammaln(a)
        + gammaln(b + x)
        - gammaln(a + b + x)
        - ln_beta_ab
        + ln_gamma_part
        - (r + x) * np.log(alpha + T)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        term2 = (
            gammaln(a + 1)
            + gammaln(b + x - 1)
            - gammaln(a + b + x)
            - ln_beta_ab
            + ln_gamma_part
            - (r + x) * np.log(alpha + t_x)
        )
    term2 = np.where(x > 0, term2, -np.inf)
    high = np.maximum(term1, term2)
    per_customer = high + np.log(np.exp(term1 - high) + np.exp(term2 - high))
    return float(np.sum(n * per_customer))


def _fit(log_likelihood, start, data) -> tuple[np.ndarray, float]:
    result = optimize.minimize(
        lambda log_params: -log_likelihood(np.exp(log_params), *data),
        np.log(start),
        method="Nelder-Mead",
        options={"maxiter": 20000, "xatol": 1e-10, "fatol": 1e-10, "adaptive": True},
    )
    return np.exp(result.x), -result.fun


def fit_bg_nbd(summary: pd.DataFrame) -> tuple[dict[str, float], float]:
    """(r, alpha, a, b) by maximum likelihood over customers with T > 0 (Nelder-Mead over logs).
    Identical (x, t_x, T) rows are counted once with their multiplicity."""
    fit_on = summary[summary["T"] > 0]
    grouped = fit_on.groupby(["x", "t_x", "T"]).size().reset_index(name="n")

    data = tuple(grouped[c].to_numpy(dtype=float) for c in ("x", "t_x", "T", "n"))
    params, ll = _fit(bg_nbd_log_likelihood, [0.5, float(fit_on["T"].mean()), 0.5, 0.5], data)
    return dict(zip(("r", "alpha", "a", "b"), params, strict=True)), ll


def p_alive(params: dict[str, float], x: float, t_x: float, T: float) -> float:
    """P(alive) = 1 / (1 + delta(x>0) * a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x))."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    if x == 0:
        return 1.0
    ratio = mpmath.mpf(a) / (b + x - 1) * mpmath.power((alpha + T) / (alpha + t_x), r + x)
    return float(1 / (1 + ratio))


def expected_transactions(params: dict[str, float], t: float, x: float, t_x: float, T: float):
    """FHL 2005 equation (10), as printed:
    E[Y(t) | x, t_x, T] = (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x)
        * 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))] / (1 + delta(x>0) a/(b+x-1)
        ((alpha+T)/(alpha+t_x))^(r+x))."""
    r, alpha, a, b = (mpmath.mpf(params[k]) for k in ("r", "alpha", "a", "b"))
    x, t_x, T, t = (mpmath.mpf(v) for v in (x, t_x, T, t))
    z = t / (alpha + T + t)
    bracket = 1 - mpmath.power((alpha + T) / (alpha + T + t), r + x) * mpmath.hyp2f1(
        r + x, b + x, a + b + x - 1, z
    )
    denominator = 1
    if x > 0:
        denominator += a / (b + x - 1) * mpmath.power((alpha + T) / (alpha + t_x), r + x)
    return float((a + b + x - 1) / (a - 1) * bracket / denominator)


# --------------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------------


def gamma_gamma_log_likelihood(params, x, m_x) -> float:
    """Sum of ln f(m_x | p, q, gamma; x) =
    ln[Gamma(px+q) / (Gamma(px) Gamma(q)) * gamma^q m_x^(px-1) x^(px) / (gamma + m_x x)^(px+q)]."""
    p, q, gamma = params
    x, m_x = (np.asarray(v, dtype=float) for v in (x, m_x))
    return float(
        np.sum(
            gammaln(p * x + q)
            - gammaln(p * x)
            - gammaln(q)
            + q * np.log(gamma)
            + (p * x - 1) * np.log(m_x)
            + p * x * np.log(x)
            - (p * x + q) * np.log(gamma + m_x * x)
        )
    )


def fit_gamma_gamma(summary: pd.DataFrame) -> tuple[dict[str, float], float]:
    """(p, q, gamma) by maximum likelihood over customers with x >= 1."""
    repeat = summary[summary["x"] > 0]
    data = (repeat["x"].to_numpy(dtype=float), repeat["m_x"].to_numpy(dtype=float))
    params, ll = _fit(gamma_gamma_log_likelihood, [1.0, 1.0, float(repeat["m_x"].mean())], data)
    return dict(zip(("p", "q", "gamma"), params, strict=True)), ll


def expected_order_value(params: dict[str, float], x: float, m_x: float) -> float:
    """E[M | x, m_x] = (q-1)/(px+q-1) * p gamma/(q-1) + px/(px+q-1) * m_x: the weighted mean of the
    population mean and the customer's own mean; the population mean when x = 0."""
    p, q, gamma = (params[k] for k in ("p", "q", "gamma"))
    population_mean = p * gamma / (q - 1)
    if x == 0:
        return population_mean
    weight = p * x / (p * x + q - 1)
    return (1 - weight) * population_mean + weight * m_x


# --------------------------------------------------------------------------------------------
# Tiers and the whole mart
# --------------------------------------------------------------------------------------------


def churn_risk(value: float, low_min: str = "0.7", medium_min: str = "0.3") -> str:
    if value >= float(low_min):
        return "low"
    if value >= float(medium_min):
        return "medium"
    return "high"


def share_tiers(values: pd.Series, cuts: list[tuple[str, str]], last: str) -> pd.Series:
    """Tiers by share of rank: s = (rank - 1) / N with rank over the values descending (ties share
    the lowest rank); the first tier whose cut s is below, compared exactly."""
    ranks = values.rank(method="min", ascending=False).astype(int)
    n = len(values)

    def tier(rank: int) -> str:
        share = Fraction(rank - 1, n)
        for name, cut in cuts:
            if share < Fraction(cut):
                return name
        return last

    return ranks.map(tier)


def compute_predictions(
    data: dict[str, pd.DataFrame],
    contact_ids: list[str],
    as_of_date: Any,
    **vars: Any,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Every contact's predictions and tiers (SPEC section 10), and the fits. ``contact_ids`` are
    the contacts that exist as of the date (sections 0-1; the segment reference gives them)."""
    settings = {**DEFAULTS, **vars}
    as_of = dt.date.fromisoformat(str(as_of_date))
    summary = summarise_transactions(data, as_of, settings.get("predictive_fit_window_days"))
    result = pd.DataFrame({"contact_id": list(contact_ids)}).merge(
        summary, how="left", on="contact_id"
    )
    repeat_customers = int(((summary["x"] > 0) & (summary["T"] > 0)).sum())
    fits: dict[str, Any] = {"repeat_customers": repeat_customers}
    is_customer = result["x"].notna()
    columns = [
        "p_alive",
        "expected_orders_30d",
        "expected_orders_90d",
        "expected_orders_365d",
        "expected_order_value",
        "predicted_clv_365d",
    ]
    for column in columns:
        result[column] = math.nan
    result["churn_risk"] = np.where(is_customer, None, "prospect")
    result["value_tier"] = np.where(is_customer, None, "prospect")
    if repeat_customers < int(settings["predictive_min_customers"]):
        fits["status"] = "too_few_customers"
        return result, fits

    bg_nbd, bg_ll = fit_bg_nbd(summary)
    gamma_gamma, gg_ll = fit_gamma_gamma(summary)
    fits.update(bg_nbd=bg_nbd, bg_nbd_ll=bg_ll, gamma_gamma=gamma_gamma, gamma_gamma_ll=gg_ll)
    fits["status"] = "fitted"
    customers = result[is_customer]
    for index, row in customers.iterrows():
        x, t_x, T, m_x = row["x"], row["t_x"], row["T"], row["m_x"]
        result.at[index, "p_alive"] = p_alive(bg_nbd, x, t_x, T)
        for horizon in (30, 90, 365):
            result.at[index, f"expected_orders_{horizon}d"] = expected_transactions(
                bg_nbd, horizon, x, t_x, T
            )
        result.at[index, "expected_order_value"] = expected_order_value(gamma_gamma, x, m_x)
    result["predicted_clv_365d"] = result["expected_orders_365d"] * result["expected_order_value"]
    result.loc[is_customer, "churn_risk"] = result.loc[is_customer, "p_alive"].map(
        lambda v: churn_risk(
            v, settings["churn_risk_low_min_p_alive"], settings["churn_risk_medium_min_p_alive"]
        )
    )
    result.loc[is_customer, "value_tier"] = share_tiers(
        result.loc[is_customer, "predicted_clv_365d"],
        [
            ("top", settings["value_tier_top_max_share"]),
            ("high", settings["value_tier_high_max_share"]),
            ("medium", settings["value_tier_medium_max_share"]),
        ],
        "low",
    )
    return result, fits
