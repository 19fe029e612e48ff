"""Per customer of the as-of date: the five cluster features, standardised, and the K-Means
cluster number (SPEC section 10, Clusters; the method in segment_warehouse/clusters.py).

Customers are the contacts with RFM metrics (a valid order on or before the as-of date, within var
rfm_window_days when set). The features are read from the marts that own their rules:
recency_days, frequency and monetary from customer_rfm (section 1), the open rate from
customer_engagement's sends and opened sends (section 4; 0 without a send) and the nurturing score
from customer_scores (section 5). With fewer customers than max(var cluster_count, var
cluster_min_customers) the table is empty and one log line says so; the build goes on.
"""

import pandas as pd

from segment_warehouse import clusters
from segment_warehouse.predictive import int_config


def model(dbt, session):
    # dbt reads each config key from the source: one literal call per var
    settings = {
        "cluster_count": dbt.config.get("cluster_count"),
        "cluster_seed": dbt.config.get("cluster_seed"),
        "cluster_n_init": dbt.config.get("cluster_n_init"),
        "cluster_min_customers": dbt.config.get("cluster_min_customers"),
    }
    settings = {name: int_config(value, name) for name, value in settings.items()}
    rfm = (
        dbt.ref("customer_rfm")
        .filter("recency_days is not null")
        .project("contact_id, recency_days, frequency, monetary")
        .df()
    )
    engagement = (
        dbt.ref("customer_engagement").project("contact_id, sends_count, opened_sends_count").df()
    )
    scores = dbt.ref("customer_scores").project("contact_id, nurturing_score").df()

    customers = rfm.merge(engagement, on="contact_id", how="left").merge(
        scores, on="contact_id", how="left"
    )
    sends = customers["sends_count"].fillna(0).astype("float64")
    opened = customers["opened_sends_count"].fillna(0).astype("float64")
    customers["open_rate"] = (opened / sends.where(sends > 0)).fillna(0.0)
    customers["nurturing_score"] = customers["nurturing_score"].fillna(0.0)
    customers["monetary"] = customers["monetary"].astype("float64")

    result = clusters.cluster_customers(
        customers,
        cluster_count=settings["cluster_count"],
        seed=settings["cluster_seed"],
        n_init=settings["cluster_n_init"],
        min_customers=settings["cluster_min_customers"],
    )
    print(f"clusters: {result.message}", flush=True)
    return pd.DataFrame(result.customers)
