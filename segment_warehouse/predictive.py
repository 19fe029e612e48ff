"""BG/NBD and Gamma-Gamma: maximum-likelihood fits and per-customer predictions (SPEC section 10).

The dbt Python models in ``models/intermediate/predictive/`` call these functions; they are plain
numpy/scipy so that they can be unit-tested without a warehouse.

- BG/NBD: Fader, Hardie and Lee (2005), "Counting your customers the easy way: an alternative to
  the Pareto/NBD model", Marketing Science 24(2). Equations (6) (likelihood), (10) (conditional
  expectation) and the probability of being alive of their note "Computing P(alive) using the
  BG/NBD model".
- Gamma-Gamma: Fader, Hardie and Lee (2005), "RFM and CLV: using iso-value curves for customer base
  analysis", JMR 42(4), and the note "The Gamma-Gamma model of monetary value" (Fader and Hardie,
  2013): likelihood of the mean repeat spend and the conditional expected spend.

Customers with the same (x, t_x, T) (or (x, m_x)) contribute the same likelihood term, so the fits
run over the distinct rows, weighted by their count: at daily resolution a shop's customers fall
into far fewer distinct rows than there are customers. Within a fit, the special functions and
logarithms are taken once per distinct value of x, t_x and T (a few hundred or thousand) and
spread over the rows; the predictions are computed once per distinct (x, t_x, T, m_x). Both give
the same bits as the plain per-row formulas (the same elementwise operations on the same values).
The likelihood is summed with np.sum (pairwise, in a fixed order), not np.dot, whose BLAS result
depends on the number of threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special

BG_NBD_PARAMETERS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS = ("p", "q", "gamma")


@dataclass
class Fit:
    """One maximum-likelihood fit: the parameters by name, the log-likelihood at them (summed
    over every customer, not only the distinct rows), how many customers it was fitted on, and
    whether the optimiser reported convergence."""

    model: str
    parameters: dict[str, float]
    log_likelihood: float
    customers: int
    converged: bool
    message: str = ""
    iterations: int = 0
    extra: dict[str, float] = field(default_factory=dict)


def _distinct_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of the given columns, in lexicographic order (first column first, as
    np.unique(axis=0) orders them), and how many times each occurs."""
    distinct, counts, _ = _distinct_rows_inverse(*columns)
    return distinct, counts


def _distinct_rows_inverse(
    *columns: np.ndarray,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """_distinct_rows and, for each input row, the index of its distinct row. One lexsort of the
    columns: np.unique(axis=0) sorts a copy of the rows as records, several times slower."""
    values = [np.asarray(column, dtype=float) for column in columns]
    order = np.lexsort(values[::-1])
    ordered = [column[order] for column in values]
    starts_here = np.ones(len(order), dtype=bool)
    for column in ordered:
        starts_here[1:] &= column[1:] == column[:-1]
    starts_here = ~starts_here
    if len(order):
        starts_here[0] = True
    starts = np.flatnonzero(starts_here)
    counts = np.diff(np.append(starts, len(order))).astype(float)
    inverse = np.empty(len(order), dtype=np.intp)
    inverse[order] = np.cumsum(starts_here) - 1
    return [column[starts] for column in ordered], counts, inverse


class _Levels:
    """The distinct values of one column and where each row's value sits among them: a function
    of the column is computed once per distinct value and spread over the rows."""

    def __init__(self, column: np.ndarray):
        self.values, self.index = np.unique(column, return_inverse=True)

    def spread(self, per_value: np.ndarray) -> np.ndarray:
        return per_value[self.index]


def _memoised(function):
    """The optimisers evaluate some points twice (Nelder-Mead starts where L-BFGS-B stopped)."""
    seen: dict[bytes, float] = {}

    def wrapped(point: np.ndarray) -> float:
        key = np.asarray(point, dtype=float).tobytes()
        if key not in seen:
            seen[key] = function(point)
        return seen[key]

    return wrapped


# ------------------------------------------------------------------------------------------------
# BG/NBD
# ------------------------------------------------------------------------------------------------


def bg_nbd_log_likelihood_terms(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """Each customer's log-likelihood (FHL 2005, equation 6), computed in logs throughout:

    L = Gamma(r + x) alpha^r / Gamma(r) * [B(a, b + x) / B(a, b) / (alpha + T)^(r + x)
        + [x > 0] B(a + 1, b + x - 1) / B(a, b) / (alpha + t_x)^(r + x)]."""
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    t = np.asarray(t, dtype=float)
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) - special.betaln(a, b)
    still_alive = special.betaln(a, b + x) - (r + x) * np.log(alpha + t)
    has_repeat = x > 0
    dropped_after_last = np.full_like(x, -np.inf)
    dropped_after_last[has_repeat] = special.betaln(a + 1, b + x[has_repeat] - 1) - (
        r + x[has_repeat]
    ) * np.log(alpha + t_x[has_repeat])
    return common + np.logaddexp(still_alive, dropped_after_last)


def fit_bg_nbd(x: np.ndarray, t_x: np.ndarray, t: np.ndarray) -> Fit:
    """Maximum-likelihood BG/NBD parameters over the customers given (callers pass those with
    T > 0). Optimised over the logs of the parameters (L-BFGS-B, then Nelder-Mead from its
    result to confirm the optimum)."""
    (ux, ut_x, ut), weights = _distinct_rows(x, t_x, t)
    xs, t_xs, ts = _Levels(ux), _Levels(ut_x), _Levels(ut)
    has_repeat = ux > 0

    def terms(r: float, alpha: float, a: float, b: float) -> np.ndarray:
        # bg_nbd_log_likelihood_terms, with each function of x, t_x or T taken per distinct value
        common = xs.spread(
            special.gammaln(r + xs.values)
            - special.gammaln(r)
            + r * np.log(alpha)
            - special.betaln(a, b)
        )
        still_alive = xs.spread(special.betaln(a, b + xs.values)) - (r + ux) * ts.spread(
            np.log(alpha + ts.values)
        )
        dropped_after_last = np.full_like(ux, -np.inf)
        dropped_after_last[has_repeat] = (
            xs.spread(special.betaln(a + 1, b + xs.values - 1))[has_repeat]
            - (r + ux[has_repeat]) * t_xs.spread(np.log(alpha + t_xs.values))[has_repeat]
        )
        return common + np.logaddexp(still_alive, dropped_after_last)

    @_memoised
    def negative_log_likelihood(log_parameters: np.ndarray) -> float:
        r, alpha, a, b = np.exp(log_parameters)
        value = -np.sum(weights * terms(r, alpha, a, b))
        return float(value) if np.isfinite(value) else 1e300

    start = np.log([1.0, max(float(np.sum(weights * ut) / weights.sum()), 1.0), 1.0, 1.0])
    return _minimise("bg_nbd", negative_log_likelihood, start, BG_NBD_PARAMETERS, int(len(x)))


def bg_nbd_p_alive(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """P(alive | x, t_x, T) =
    1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))."""
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    t = np.asarray(t, dtype=float)
    has_repeat = x > 0
    log_ratio = np.zeros_like(x)
    log_ratio[has_repeat] = (
        np.log(a)
        - np.log(b + x[has_repeat] - 1)
        + (r + x[has_repeat]) * (np.log(alpha + t[has_repeat]) - np.log(alpha + t_x[has_repeat]))
    )
    return np.where(has_repeat, special.expit(-log_ratio), 1.0)


def bg_nbd_expected_transactions(
    horizon: float,
    r: float,
    alpha: float,
    a: float,
    b: float,
    x: np.ndarray,
    t_x: np.ndarray,
    t: np.ndarray,
) -> np.ndarray:
    """E[Y(horizon) | x, t_x, T], FHL 2005 equation (10):

    (a + b + x - 1) / (a - 1) * [1 - ((alpha + T) / (alpha + T + t))^(r + x)
        * 2F1(r + x, b + x; a + b + x - 1; t / (alpha + T + t))] * P(alive).

    The product of the power and 2F1 is rewritten with Euler's transformation
    2F1(A, B; C; z) = (1 - z)^(C - A - B) 2F1(C - A, C - B; C; z) as
    (1 - z)^(a - 1) * 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z), whose first two arguments do not
    grow with x: the direct form overflows for customers with hundreds of transactions.
    """
    if abs(a - 1.0) < 1e-6:
        # a = 1 is a removable singularity (0 / 0): step a off it; the expectation is continuous
        # in a, and the step changes it by about one part in a million
        a = 1.0 + 1e-6
    x = np.asarray(x, dtype=float)
    t = np.asarray(t, dtype=float)
    z = horizon / (alpha + t + horizon)
    product = np.power(1.0 - z, a - 1.0) * special.hyp2f1(
        a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z
    )
    expected = (a + b + x - 1.0) / (a - 1.0) * (1.0 - product)
    return expected * bg_nbd_p_alive(r, alpha, a, b, x, t_x, t)


# ------------------------------------------------------------------------------------------------
# Gamma-Gamma
# ------------------------------------------------------------------------------------------------


def gamma_gamma_log_likelihood_terms(
    p: float, q: float, gamma: float, x: np.ndarray, m_x: np.ndarray
) -> np.ndarray:
    """Each repeat customer's log-likelihood of the mean spend m_x of x transactions:
    Gamma(px + q) / (Gamma(px) Gamma(q)) * gamma^q m_x^(px - 1) x^(px)
    / (gamma + m_x x)^(px + q)."""
    x = np.asarray(x, dtype=float)
    m_x = np.asarray(m_x, dtype=float)
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(gamma)
        + (px - 1.0) * np.log(m_x)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m_x * x)
    )


def fit_gamma_gamma(x: np.ndarray, m_x: np.ndarray) -> Fit:
    """Maximum-likelihood Gamma-Gamma parameters over customers with x >= 1 and m_x > 0."""
    (ux, um_x), weights = _distinct_rows(x, m_x)

    @_memoised
    def negative_log_likelihood(log_parameters: np.ndarray) -> float:
        p, q, gamma = np.exp(log_parameters)
        value = -np.sum(weights * gamma_gamma_log_likelihood_terms(p, q, gamma, ux, um_x))
        return float(value) if np.isfinite(value) else 1e300

    # the start from the distinct rows (sorted), not the input order: the same customers in another
    # order must give the same bits
    mean_spend = float(np.sum(weights * um_x) / weights.sum())
    start = np.log([1.0, 2.0, max(mean_spend, 1e-6)])
    return _minimise(
        "gamma_gamma", negative_log_likelihood, start, GAMMA_GAMMA_PARAMETERS, int(len(x))
    )


def gamma_gamma_expected_order_value(
    p: float, q: float, gamma: float, x: np.ndarray, m_x: np.ndarray
) -> np.ndarray:
    """E[M | x, m_x] = p (gamma + x m_x) / (p x + q - 1); for x = 0 the population mean
    p gamma / (q - 1). Undefined (NaN) when q <= 1 (the population mean is infinite)."""
    x = np.asarray(x, dtype=float)
    m_x = np.nan_to_num(np.asarray(m_x, dtype=float), nan=0.0)
    if q <= 1.0:
        return np.full_like(x, np.nan)
    return p * (gamma + x * m_x) / (p * x + q - 1.0)


# ------------------------------------------------------------------------------------------------
# Optimiser
# ------------------------------------------------------------------------------------------------


def _minimise(model, negative_log_likelihood, start, names, customers) -> Fit:
    first = optimize.minimize(
        negative_log_likelihood,
        start,
        method="L-BFGS-B",
        options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9},
    )
    # Nelder-Mead from L-BFGS-B's point: L-BFGS-B's numeric gradient can stop a little short on
    # flat likelihoods; the simplex confirms (or improves) the optimum without gradients.
    second = optimize.minimize(
        negative_log_likelihood,
        first.x,
        method="Nelder-Mead",
        options={"maxiter": 4000, "xatol": 1e-9, "fatol": 1e-10},
    )
    best = second if second.fun <= first.fun else first
    converged = bool(second.success) and np.isfinite(best.fun) and best.fun < 1e300
    message = f"L-BFGS-B: {first.message}; Nelder-Mead: {second.message}"
    return Fit(
        model=model,
        parameters=dict(zip(names, (float(v) for v in np.exp(best.x)), strict=True)),
        log_likelihood=-float(best.fun),
        customers=customers,
        converged=converged,
        message=str(message),
        iterations=int(first.nit) + int(second.nit),
    )


# ------------------------------------------------------------------------------------------------
# Both fits over a customer summary
# ------------------------------------------------------------------------------------------------


@dataclass
class SummaryFit:
    """BG/NBD over the customers with T > 0 and Gamma-Gamma over those of them with x >= 1, or
    neither (None) when fewer repeat customers than the minimum; the customers each is (or would
    be) fitted on, and why not when not."""

    bg_nbd: Fit | None
    gamma_gamma: Fit | None
    bg_nbd_customers: int
    gamma_gamma_customers: int
    message: str = ""


def fit_summary(summary, min_customers: int) -> SummaryFit:
    """Fit both models on a per-customer summary (columns repeat_transactions, t_x_days, t_days,
    repeat_transaction_mean_amount: int_transactions_summarised_to_customers), the as-of date's
    (int_predictive_models_fitted) or the backtest's (int_backtest_customers_predicted)."""
    fit_on = summary[summary["t_days"] > 0]
    repeat = fit_on[fit_on["repeat_transactions"] > 0]
    if len(repeat) < min_customers:
        message = (
            f"{len(repeat)} repeat customers (with T > 0) as of the date, fewer than var "
            f"predictive_min_customers ({min_customers}): the models are not fitted and "
            "customer_predictions has no predictions for this date"
        )
        return SummaryFit(None, None, len(fit_on), len(repeat), message)
    bg_nbd = fit_bg_nbd(
        fit_on["repeat_transactions"].to_numpy(),
        fit_on["t_x_days"].to_numpy(),
        fit_on["t_days"].to_numpy(),
    )
    gamma_gamma = fit_gamma_gamma(
        repeat["repeat_transactions"].to_numpy(),
        repeat["repeat_transaction_mean_amount"].to_numpy(),
    )
    return SummaryFit(bg_nbd, gamma_gamma, len(fit_on), len(repeat))


# ------------------------------------------------------------------------------------------------
# Predictions
# ------------------------------------------------------------------------------------------------

#: Steps of the discounted 365-day value: the expected orders of each twelfth of the year are
#: discounted to the end of that twelfth.
CLV_STEPS = 12


def predict_customers(
    bg_nbd: dict[str, float],
    gamma_gamma: dict[str, float],
    x: np.ndarray,
    t_x: np.ndarray,
    t: np.ndarray,
    m_x: np.ndarray,
    *,
    discount_rate: float = 0.0,
):
    """Per customer: p_alive, expected_orders_30d/90d/365d, expected_order_value and
    predicted_clv_365d (undiscounted when discount_rate is 0: expected_orders_365d times
    expected_order_value; else each twelfth of the year's expected orders discounted at the
    annual rate to the end of that twelfth). A pandas DataFrame in the order of the inputs."""
    import pandas as pd

    r, alpha, a, b = (bg_nbd[name] for name in BG_NBD_PARAMETERS)
    p, q, gamma = (gamma_gamma[name] for name in GAMMA_GAMMA_PARAMETERS)
    # once per distinct (x, t_x, T, m_x), then spread over the customers; m_x is read as 0 where
    # missing, as gamma_gamma_expected_order_value reads it, so that the customers without a
    # repeat purchase fall together
    m_x = np.nan_to_num(np.asarray(m_x, dtype=float), nan=0.0)
    (x, t_x, t, m_x), _, customer_row = _distinct_rows_inverse(x, t_x, t, m_x)

    def expected(horizon: float) -> np.ndarray:
        return bg_nbd_expected_transactions(horizon, r, alpha, a, b, x, t_x, t)

    expected_365 = expected(365.0)
    order_value = gamma_gamma_expected_order_value(p, q, gamma, x, m_x)
    if discount_rate == 0:
        clv = expected_365 * order_value
    else:
        discounted_orders = np.zeros_like(x)
        previous = np.zeros_like(x)
        for step in range(1, CLV_STEPS + 1):
            horizon = 365.0 * step / CLV_STEPS
            current = expected_365 if step == CLV_STEPS else expected(horizon)
            discounted_orders += (current - previous) / (1.0 + discount_rate) ** (step / CLV_STEPS)
            previous = current
        clv = discounted_orders * order_value
    per_row = {
        "p_alive": bg_nbd_p_alive(r, alpha, a, b, x, t_x, t),
        "expected_orders_30d": expected(30.0),
        "expected_orders_90d": expected(90.0),
        "expected_orders_365d": expected_365,
        "expected_order_value": order_value,
        "predicted_clv_365d": clv,
    }
    return pd.DataFrame({name: values[customer_row] for name, values in per_row.items()})


# ------------------------------------------------------------------------------------------------
# dbt vars, as the Python models receive them (rendered into their config by the YAML)
# ------------------------------------------------------------------------------------------------


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def int_config(value, name: str) -> int:
    """A whole-number var >= 0; a clear error naming the var otherwise."""
    text = _text(value)
    if not text.isdigit():
        raise ValueError(f"var {name}: '{text}' is not a whole number >= 0")
    return int(text)


def float_config(value, name: str) -> float:
    """A number var >= 0 (e.g. 0.1); a clear error naming the var otherwise."""
    text = _text(value)
    try:
        number = float(text)
    except ValueError:
        number = -1.0
    if not np.isfinite(number) or number < 0:
        raise ValueError(f"var {name}: '{text}' is not a number >= 0")
    return number
