"""Purchase propensity (SPEC section 10): P(at least one valid order in the horizon after a date)
for every contact, from a logistic regression trained on the state of an earlier date.

Why logistic regression rather than gradient boosting: its probabilities are fitted to the log
loss directly (the tiers and the backtest's calibration read them as probabilities), its lbfgs fit
draws no random numbers (the same contacts give the same bits), it fits a million contacts in
seconds on two cores, and the fitted model is a few numbers (the standardisation and one
coefficient per feature) that ``int_purchase_propensity_fitted`` records and
``int_contacts_scored_propensity`` applies.

The dbt Python models in ``models/intermediate/predictive/`` call these functions; they take and
return pandas/numpy objects so that they can be tested without a warehouse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

#: counts, days and money: log(1 + value), nulls (no order yet, no creation date) as 0
LOG_FEATURES = (
    "recency_days",
    "frequency",
    "monetary",
    "orders_count",
    "days_since_last_order",
    "tenure_days",
    "sends_count",
    "opened_sends_count",
    "opens_count",
    "clicks_count",
    "sessions_count",
    "products_viewed_count",
    "time_on_site_seconds",
    "nurturing_score",
)
FLAG_FEATURES = ("has_added_to_cart", "has_started_checkout")
LIFECYCLE_STAGES = ("prospect", "new", "active", "loyal", "at_risk", "lapsed")
MAX_ITERATIONS = 1000


@dataclass
class PropensityFit:
    """One fit: its status (fitted, not_converged, too_few_contacts, no_positives, no_negatives),
    the training and held-out contacts, the positives among the training contacts, the AUC on the
    held-out contacts (None when they hold one class only), and the model as JSON (None when not
    fitted)."""

    status: str
    contacts: int
    positives: int
    holdout_contacts: int
    auc: float | None
    converged: bool | None
    iterations: int | None
    message: str
    model_json: str | None


def feature_matrix(features: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """The classifier's inputs, one column per name: log(1 + x) of the counts, days and money, the
    two funnel flags, whether the contact has ordered, and one indicator per lifecycle stage."""
    columns: dict[str, np.ndarray] = {}
    for name in LOG_FEATURES:
        values = pd.to_numeric(features[name], errors="coerce").astype(float).fillna(0.0)
        columns[f"log1p_{name}"] = np.log1p(values.clip(lower=0.0).to_numpy())
    for name in FLAG_FEATURES:
        columns[name] = features[name].fillna(False).astype(bool).to_numpy(dtype=float)
    orders = pd.to_numeric(features["orders_count"], errors="coerce").fillna(0)
    columns["is_customer"] = (orders > 0).to_numpy(dtype=float)
    for stage in LIFECYCLE_STAGES:
        columns[f"lifecycle_{stage}"] = (features["lifecycle_stage"] == stage).to_numpy(dtype=float)
    names = list(columns)
    matrix = np.column_stack([columns[name] for name in names]) if len(features) else None
    if matrix is None:
        matrix = np.zeros((0, len(names)))
    return matrix, names


def holdout_mask(contact_ids: pd.Series, seed: int, share: float) -> np.ndarray:
    """Which contacts are held out: a draw per contact from a generator seeded with `seed`, the
    contacts taken in contact_id order (so the rows' order does not matter); held out below
    `share`. Aligned with `contact_ids`."""
    ids = contact_ids.astype(str).to_numpy()
    order = np.argsort(ids, kind="stable")
    draws = np.empty(len(ids))
    draws[order] = np.random.default_rng(seed).random(len(ids))
    return draws < share


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve (ties count one half); None when one class is missing."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels, dtype=bool)
    if labels.all() or not labels.any():
        return None
    return float(roc_auc_score(labels, scores))


def fit_propensity(
    training: pd.DataFrame, *, seed: int, holdout_share: float, min_contacts: int
) -> PropensityFit:
    """Fit on the training contacts that are not held out; the AUC on those held out. `training`
    has the feature columns, contact_id and has_order_in_horizon."""
    from sklearn.linear_model import LogisticRegression

    # in contact_id order: sums (the standardisation, the likelihood) then do not depend on the
    # order the warehouse returned the rows in, so the same contacts give the same bits
    training = training.sort_values("contact_id", kind="mergesort").reset_index(drop=True)
    contacts = len(training)
    labels = training["has_order_in_horizon"].fillna(False).astype(bool).to_numpy()
    positives = int(labels.sum())
    held_out = holdout_mask(training["contact_id"], seed, holdout_share)
    train = ~held_out

    def not_fitted(status: str, message: str) -> PropensityFit:
        return PropensityFit(
            status, contacts, positives, int(held_out.sum()), None, None, None, message, None
        )

    if contacts < min_contacts:
        return not_fitted(
            "too_few_contacts",
            f"{contacts} contacts in the training state, fewer than var propensity_min_contacts "
            f"({min_contacts}): no purchase propensity for this date",
        )
    if not labels[train].any():
        return not_fitted(
            "no_positives",
            f"no training contact (of {int(train.sum())}) ordered in the horizon: "
            "no purchase propensity for this date",
        )
    if labels[train].all():
        return not_fitted(
            "no_negatives",
            f"every training contact (of {int(train.sum())}) ordered in the horizon: "
            "no purchase propensity for this date",
        )

    matrix, names = feature_matrix(training)
    mean = matrix[train].mean(axis=0)
    scale = matrix[train].std(axis=0)
    scale[scale == 0] = 1.0
    classifier = LogisticRegression(C=1.0, max_iter=MAX_ITERATIONS, solver="lbfgs")
    classifier.fit((matrix[train] - mean) / scale, labels[train])
    iterations = int(np.max(classifier.n_iter_))
    converged = iterations < MAX_ITERATIONS
    model = {
        "features": names,
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "coefficients": classifier.coef_[0].tolist(),
        "intercept": float(classifier.intercept_[0]),
    }
    auc = roc_auc(labels[held_out], apply_model(model, matrix[held_out]))
    message = (
        f"logistic regression on {int(train.sum())} contacts ({int(labels[train].sum())} "
        f"ordered), AUC on {int(held_out.sum())} held-out contacts: "
        + ("n/a (one class)" if auc is None else f"{auc:.4f}")
    )
    return PropensityFit(
        "fitted" if converged else "not_converged",
        contacts,
        positives,
        int(held_out.sum()),
        auc,
        converged,
        iterations,
        message,
        json.dumps(model),
    )


def apply_model(model: dict, matrix: np.ndarray) -> np.ndarray:
    """P(order in the horizon) for each row of the feature matrix."""
    mean = np.asarray(model["mean"])
    scale = np.asarray(model["scale"])
    coefficients = np.asarray(model["coefficients"])
    return special.expit(((matrix - mean) / scale) @ coefficients + model["intercept"])


def score(model_json: str, features: pd.DataFrame) -> np.ndarray:
    """Apply a recorded model (PropensityFit.model_json) to contacts' features."""
    model = json.loads(model_json)
    matrix, names = feature_matrix(features)
    if names != model["features"]:
        raise ValueError(f"features {names} differ from the model's {model['features']}")
    return apply_model(model, matrix)
