"""The backtest's forecast (SPEC section 10): BG/NBD and Gamma-Gamma fitted on the history as of the
as-of date minus var backtest_horizon_days (int_transactions_summarised_for_backtest), by the same
code and rules as int_predictive_models_fitted, and each customer's expected transactions and
revenue over the horizon beside what happened. Empty, with one log line, when there are too few
repeat customers to fit (var predictive_min_customers).
"""

import numpy as np
import pandas as pd

from segment_warehouse import predictive

COLUMNS = {
    "contact_id": "string",
    "fit_status": "string",
    "predicted_transactions": "float64",
    "predicted_revenue": "float64",
    "actual_transactions": "Int64",
    "actual_revenue": "float64",
}


def model(dbt, session):
    min_customers = predictive.int_config(
        dbt.config.get("predictive_min_customers"), "predictive_min_customers"
    )
    horizon = predictive.int_config(
        dbt.config.get("backtest_horizon_days"), "backtest_horizon_days"
    )
    summary = dbt.ref("int_transactions_summarised_for_backtest").df()
    fit = predictive.fit_summary(summary, min_customers)
    if fit.bg_nbd is None:
        print(
            f"predictive backtest: {fit.gamma_gamma_customers} repeat customers (with T > 0) as of "
            f"{horizon} days before the as-of date, fewer than var predictive_min_customers "
            f"({min_customers}): not fitted, predictive_backtest has no orders forecast",
            flush=True,
        )
        return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in COLUMNS.items()})

    x = summary["repeat_transactions"].to_numpy()
    t_x = summary["t_x_days"].to_numpy()
    t = summary["t_days"].to_numpy()
    bg_nbd = fit.bg_nbd.parameters
    predicted = predictive.bg_nbd_expected_transactions(
        float(horizon), *(bg_nbd[name] for name in predictive.BG_NBD_PARAMETERS), x, t_x, t
    )
    order_value = predictive.gamma_gamma_expected_order_value(
        *(fit.gamma_gamma.parameters[name] for name in predictive.GAMMA_GAMMA_PARAMETERS),
        x,
        summary["repeat_transaction_mean_amount"].to_numpy(),
    )
    status = "fitted" if fit.bg_nbd.converged and fit.gamma_gamma.converged else "not_converged"
    print(
        f"predictive backtest: fitted as of {str(summary['fitted_as_of_date'].iloc[0])[:10]} on "
        f"{fit.bg_nbd.customers} customers ({status}): {np.sum(predicted):.1f} transactions "
        f"predicted over {horizon} days, {int(summary['actual_transactions'].sum())} happened",
        flush=True,
    )
    return pd.DataFrame(
        {
            "contact_id": summary["contact_id"],
            "fit_status": status,
            "predicted_transactions": predicted,
            "predicted_revenue": predicted * order_value,
            "actual_transactions": summary["actual_transactions"],
            "actual_revenue": summary["actual_revenue"].astype(float),
        }
    ).astype(COLUMNS)
