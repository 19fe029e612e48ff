"""The purchase propensity classifier of the as-of date (SPEC section 10): one row.

Trained on int_contacts_featured_for_propensity's training state (every contact as of the as-of
date minus var propensity_horizon_days, labelled by a valid order in the days that followed), a
share var propensity_holdout_share of the contacts held out (seed var propensity_seed) for the
AUC. Too few training contacts (var propensity_min_contacts), or no contact of one class, and it is
not fitted: the row says why, one log line says so, purchase propensity is null, the build goes on.
"""

import pandas as pd

from segment_warehouse import predictive, propensity

COLUMNS = {
    "model_name": "string",
    "status": "string",
    "customers": "Int64",
    "positives": "Int64",
    "holdout_contacts": "Int64",
    "auc": "float64",
    "converged": "boolean",
    "iterations": "Int64",
    "message": "string",
    "model_json": "string",
}


def model(dbt, session):
    seed = predictive.int_config(dbt.config.get("propensity_seed"), "propensity_seed")
    share = predictive.float_config(
        dbt.config.get("propensity_holdout_share"), "propensity_holdout_share"
    )
    if not 0 < share < 1:
        raise ValueError(f"var propensity_holdout_share: {share} is not between 0 and 1")
    min_contacts = predictive.int_config(
        dbt.config.get("propensity_min_contacts"), "propensity_min_contacts"
    )
    features = dbt.ref("int_contacts_featured_for_propensity").df()
    training = features[features["feature_state"] == "training"]
    fit = propensity.fit_propensity(
        training, seed=seed, holdout_share=share, min_contacts=min_contacts
    )
    print(f"purchase propensity: {fit.status}: {fit.message}", flush=True)
    row = {
        "model_name": "purchase_propensity",
        "status": fit.status,
        "customers": fit.contacts,
        "positives": fit.positives,
        "holdout_contacts": fit.holdout_contacts,
        "auc": fit.auc,
        "converged": fit.converged,
        "iterations": fit.iterations,
        "message": fit.message,
        "model_json": fit.model_json,
    }
    return pd.DataFrame([row], columns=list(COLUMNS)).astype(COLUMNS)
