"""The BG/NBD and Gamma-Gamma fits of the as-of date (SPEC section 10): one row per model.

Reads int_transactions_summarised_to_customers. BG/NBD is fitted over customers with T > 0,
Gamma-Gamma over customers with at least one repeat transaction. With fewer repeat customers than
var predictive_min_customers neither is fitted: the rows say `too_few_customers`, the predictions
are empty and the build goes on (one log line says so).
"""

import pandas as pd

from segment_warehouse import predictive

COLUMNS = {
    "model_name": "string",
    "time_unit": "string",
    "status": "string",
    "r": "float64",
    "alpha": "float64",
    "a": "float64",
    "b": "float64",
    "p": "float64",
    "q": "float64",
    "gamma": "float64",
    "log_likelihood": "float64",
    "customers": "Int64",
    "converged": "boolean",
    "iterations": "Int64",
    "message": "string",
}


def _row(model_name, status, customers, fit=None, message=""):
    row = {name: None for name in COLUMNS}
    row.update(model_name=model_name, time_unit="day", status=status, customers=customers)
    if fit is not None:
        row.update(fit.parameters)
        row.update(
            log_likelihood=fit.log_likelihood,
            converged=fit.converged,
            iterations=fit.iterations,
            message=fit.message,
        )
    if message:
        row["message"] = message
    return row


def model(dbt, session):
    min_customers = predictive.int_config(
        dbt.config.get("predictive_min_customers"), "predictive_min_customers"
    )
    summary = dbt.ref("int_transactions_summarised_to_customers").df()
    fit = predictive.fit_summary(summary, min_customers)

    if fit.bg_nbd is None:
        print(f"predictive models: {fit.message}", flush=True)
        rows = [
            _row("bg_nbd", "too_few_customers", fit.bg_nbd_customers, message=fit.message),
            _row(
                "gamma_gamma", "too_few_customers", fit.gamma_gamma_customers, message=fit.message
            ),
        ]
    else:
        rows = []
        for one in (fit.bg_nbd, fit.gamma_gamma):
            status = "fitted" if one.converged else "not_converged"
            rows.append(_row(one.model, status, one.customers, one))
            print(
                f"predictive models: {one.model} {status} on {one.customers} customers: "
                + ", ".join(f"{name} {value:.4g}" for name, value in one.parameters.items())
                + f", log-likelihood {one.log_likelihood:.1f}",
                flush=True,
            )
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype(COLUMNS)
