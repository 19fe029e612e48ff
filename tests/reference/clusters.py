"""Independent reference of SPEC section 10's **Clusters** and **Microsegments**, written from SPEC.

It does not import the project's code (``segment_warehouse.clusters`` or the dbt models): it reads
the reference's own per-contact frames (``segments.compute_segments`` for RFM and lifecycle,
``engagement.compute_engagement`` / ``compute_scores`` / ``compute_profile`` for the open rate,
nurturing score and persona), and writes the feature transform, the standardisation, the numbering
by monetary and the microsegment rule out with pandas.

K-Means itself is scikit-learn's, as SPEC's "fixed seed, several starts" pins it: the same seed,
starts (k-means++), rows in contact_id order, iterations until no customer moves (tol 0) and one
thread, so the same features give the same clusters.

Choices where SPEC leaves one (also in docs/rules.md):
- customers: contacts with RFM metrics (a valid order, within rfm_window_days when set);
- open rate: opened sends / sends in the engagement window; 0 without a send;
- standardise: (value - mean) / population standard deviation; a constant feature is 0;
- cluster 1 has the highest mean monetary (original units), ties to the larger cluster;
- too few customers: fewer than max(cluster_count, cluster_min_customers) gives no clusters;
- microsegment: '<persona or no_persona> / <lifecycle_stage> / <rfm_segment>', `other` when fewer
  than microsegment_min_size contacts of the date share it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

DEFAULTS = {
    "cluster_count": 5,
    "cluster_seed": 42,
    "cluster_n_init": 10,
    "cluster_min_customers": 100,
    "microsegment_min_size": 50,
}
FEATURE_NAMES = ("recency", "frequency", "monetary", "open_rate", "nurturing_score")


def _number(value: Any) -> float:
    return math.nan if value is None or pd.isna(value) else float(value)


def cluster_features(
    segments: pd.DataFrame, engagement: pd.DataFrame, scores: pd.DataFrame
) -> pd.DataFrame:
    """One row per customer (contact with RFM metrics), sorted by contact_id: the features in their
    original units and as K-Means reads them (log(1 + x), then standardised)."""
    customers = segments[segments["recency_days"].notna()][
        ["contact_id", "recency_days", "frequency", "monetary"]
    ]
    sends = engagement.set_index("contact_id")["sends_count"]
    opened = engagement.set_index("contact_id")["opened_sends_count"]
    score = scores.set_index("contact_id")["nurturing_score"]
    rows = []
    for row in customers.itertuples(index=False):
        n_sends = int(sends.get(row.contact_id, 0) or 0)
        n_opened = int(opened.get(row.contact_id, 0) or 0)
        rows.append(
            {
                "contact_id": str(row.contact_id),
                "recency_days": _number(row.recency_days),
                "frequency": _number(row.frequency),
                "monetary": _number(row.monetary),
                "open_rate": n_opened / n_sends if n_sends > 0 else 0.0,
                "nurturing_score": _number(score.get(row.contact_id, 0.0)),
            }
        )
    frame = pd.DataFrame(rows).sort_values("contact_id", kind="mergesort").reset_index(drop=True)
    transformed = pd.DataFrame(
        {
            "recency": [math.log(1 + v) for v in frame["recency_days"]],
            "frequency": [math.log(1 + v) for v in frame["frequency"]],
            "monetary": [math.log(1 + v) for v in frame["monetary"]],
            "open_rate": frame["open_rate"],
            "nurturing_score": frame["nurturing_score"],
        }
    )
    for name in FEATURE_NAMES:
        column = transformed[name]
        deviation = column.std(ddof=0)
        frame[f"{name}_z"] = (column - column.mean()) / deviation if deviation > 0 else 0.0
    return frame


def compute_clusters(
    segments: pd.DataFrame,
    engagement: pd.DataFrame,
    scores: pd.DataFrame,
    *,
    cluster_count: int = 5,
    cluster_seed: int = 42,
    cluster_n_init: int = 10,
    cluster_min_customers: int = 100,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per customer: contact_id, cluster_number and the standardised features; per cluster: the
    centroid in both units, size and mean monetary). Both empty with too few customers."""
    frame = cluster_features(segments, engagement, scores)
    if len(frame) < max(cluster_count, cluster_min_customers):
        return frame.iloc[0:0].assign(cluster_number=pd.Series(dtype="int64")), pd.DataFrame()
    z_columns = [f"{name}_z" for name in FEATURE_NAMES]
    with threadpool_limits(limits=1):
        kmeans = KMeans(
            n_clusters=cluster_count,
            init="k-means++",
            n_init=cluster_n_init,
            random_state=cluster_seed,
            tol=0.0,
            max_iter=1000,
            algorithm="lloyd",
        ).fit(frame[z_columns].to_numpy())
    frame["label"] = kmeans.labels_
    by_label = frame.groupby("label").agg(
        mean_monetary=("monetary", "mean"), customers_count=("contact_id", "size")
    )
    ranked = sorted(
        by_label.itertuples(),
        key=lambda row: (-row.mean_monetary, -row.customers_count, row.Index),
    )
    number_of = {row.Index: number for number, row in enumerate(ranked, start=1)}
    frame["cluster_number"] = frame["label"].map(number_of).astype("int64")

    centroids = []
    for number, members in frame.groupby("cluster_number"):
        centroid: dict[str, Any] = {
            "cluster_number": int(number),
            "cluster_name": f"cluster_{number}",
            "customers_count": len(members),
            "customers_share": len(members) / len(frame),
            "mean_monetary": members["monetary"].mean(),
        }
        for name in z_columns:
            centroid[name] = members[name].mean()
        for name in ("recency_days", "frequency", "monetary"):
            centroid[name] = math.expm1(np.log1p(members[name]).mean())
        centroid["open_rate"] = members["open_rate"].mean()
        centroid["nurturing_score"] = members["nurturing_score"].mean()
        centroids.append(centroid)
    return frame.drop(columns=["label"]), pd.DataFrame(centroids)


def compute_microsegments(
    segments: pd.DataFrame, profile: pd.DataFrame, *, microsegment_min_size: int = 50
) -> pd.DataFrame:
    """Every contact: its combination persona x lifecycle stage x RFM group, the number of contacts
    sharing it, and the microsegment (the combination, or other below the minimum size)."""
    persona = profile.set_index("contact_id")["persona"]
    rows = []
    for row in segments.itertuples(index=False):
        label = persona.get(row.contact_id)
        label = "no_persona" if label is None or pd.isna(label) else str(label)
        rows.append(
            {
                "contact_id": str(row.contact_id),
                "combination": f"{label} / {row.lifecycle_stage} / {row.rfm_segment}",
            }
        )
    frame = pd.DataFrame(rows)
    sizes = frame["combination"].value_counts()
    frame["combination_size"] = frame["combination"].map(sizes).astype("int64")
    frame["microsegment"] = [
        combination if size >= microsegment_min_size else "other"
        for combination, size in zip(frame["combination"], frame["combination_size"], strict=True)
    ]
    return frame.sort_values("contact_id", kind="mergesort").reset_index(drop=True)
