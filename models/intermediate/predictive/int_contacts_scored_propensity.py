"""Purchase propensity per contact (SPEC section 10): the classifier of
int_purchase_propensity_fitted applied to every contact of int_contacts_featured_for_propensity,
both states: `scoring` (the as-of date: customer_predictions' purchase_propensity_30d) and
`training` (the earlier date, with the label and whether the contact was held out: the backtest's
calibration). Empty when the classifier was not fitted.
"""

import pandas as pd

from segment_warehouse import predictive, propensity

COLUMNS = {
    "contact_id": "string",
    "feature_state": "string",
    "is_holdout": "boolean",
    "has_order_in_horizon": "boolean",
    "purchase_propensity": "float64",
}


def model(dbt, session):
    seed = predictive.int_config(dbt.config.get("propensity_seed"), "propensity_seed")
    share = predictive.float_config(
        dbt.config.get("propensity_holdout_share"), "propensity_holdout_share"
    )
    fit = dbt.ref("int_purchase_propensity_fitted").df()
    model_json = fit["model_json"].iloc[0] if len(fit) else None
    if model_json is None or pd.isna(model_json):
        return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in COLUMNS.items()})

    features = dbt.ref("int_contacts_featured_for_propensity").df()
    scored = features[["contact_id", "feature_state", "has_order_in_horizon"]].copy()
    scored["is_holdout"] = False
    training = (scored["feature_state"] == "training").to_numpy()
    scored.loc[training, "is_holdout"] = propensity.holdout_mask(
        scored.loc[training, "contact_id"], seed, share
    )
    scored["purchase_propensity"] = propensity.score(model_json, features)
    return scored[list(COLUMNS)].astype(COLUMNS)
