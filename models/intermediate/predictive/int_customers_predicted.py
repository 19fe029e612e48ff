"""Per customer of the as-of date: p_alive, expected orders over 30, 90 and 365 days (BG/NBD),
expected order value (Gamma-Gamma) and predicted 365-day value (SPEC section 10).

Uses the parameters of int_predictive_models_fitted; when they were not fitted (too few
customers) the table is empty and customer_predictions shows null predictions.
"""

import pandas as pd

from segment_warehouse import predictive

COLUMNS = {
    "contact_id": "string",
    "p_alive": "float64",
    "expected_orders_30d": "float64",
    "expected_orders_90d": "float64",
    "expected_orders_365d": "float64",
    "expected_order_value": "float64",
    "predicted_clv_365d": "float64",
}


def model(dbt, session):
    discount_rate = predictive.float_config(
        dbt.config.get("predictive_annual_discount_rate"), "predictive_annual_discount_rate"
    )
    fits = dbt.ref("int_predictive_models_fitted").df().set_index("model_name")
    if not (fits["status"] != "too_few_customers").all():
        return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in COLUMNS.items()})

    summary = dbt.ref("int_transactions_summarised_to_customers").df()
    bg_nbd = {name: float(fits.at["bg_nbd", name]) for name in predictive.BG_NBD_PARAMETERS}
    gamma_gamma = {
        name: float(fits.at["gamma_gamma", name]) for name in predictive.GAMMA_GAMMA_PARAMETERS
    }
    predictions = predictive.predict_customers(
        bg_nbd,
        gamma_gamma,
        summary["repeat_transactions"].to_numpy(),
        summary["t_x_days"].to_numpy(),
        summary["t_days"].to_numpy(),
        summary["repeat_transaction_mean_amount"].to_numpy(),
        discount_rate=discount_rate,
    )
    predictions.insert(0, "contact_id", summary["contact_id"].to_numpy())
    return predictions.astype(COLUMNS)
