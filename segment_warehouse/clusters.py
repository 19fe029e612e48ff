"""K-Means clusters of customers (SPEC section 10, **Clusters**).

The dbt Python model ``models/intermediate/clusters/int_customers_clustered.py`` calls
``cluster_customers``; it is plain pandas/numpy/scikit-learn so that it can be tested without a
warehouse.

- Features, per customer: log(1 + recency_days), log(1 + frequency), log(1 + monetary), open rate
  (opened sends / sends; 0 without a send) and nurturing score, each standardised to mean 0 and
  standard deviation 1 over the customers of the as-of date (population standard deviation; a
  feature that is the same for everyone is 0 for everyone).
- K-Means (Lloyd, k-means++ starts) with k = var cluster_count, var cluster_n_init starts and the
  fixed seed var cluster_seed, on the customers in contact_id order (so the result does not depend
  on the order the warehouse returns rows in), iterated until no customer changes cluster (tol 0)
  and on one thread (so the sums, and the result, do not depend on the machine's cores).
- Numbering: cluster 1 has the highest mean monetary (original units), then descending; equal means
  go to the larger cluster first. So the numbers keep their meaning from day to day even though
  K-Means' own labels are arbitrary.
- Fewer customers than max(cluster_count, var cluster_min_customers): no clustering, an empty result
  and a message saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

#: the features, in their original units, as the input frame carries them
FEATURES = ("recency_days", "frequency", "monetary", "open_rate", "nurturing_score")
#: the features that enter as log(1 + value)
LOG_FEATURES = ("recency_days", "frequency", "monetary")
#: the standardised feature of each
STANDARDISED = {
    "recency_days": "recency_z",
    "frequency": "frequency_z",
    "monetary": "monetary_z",
    "open_rate": "open_rate_z",
    "nurturing_score": "nurturing_score_z",
}

COLUMNS = {
    "contact_id": "string",
    "cluster_number": "Int64",
    **{name: "float64" for name in FEATURES},
    **{name: "float64" for name in STANDARDISED.values()},
}


@dataclass
class Clustering:
    """Per customer: contact_id, cluster_number, the five features and their standardised values
    (empty when there were too few customers); and one line that says what was done."""

    customers: pd.DataFrame
    message: str
    clustered: bool


def empty_frame() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in COLUMNS.items()})


def transformed_features(customers: pd.DataFrame) -> np.ndarray:
    """The five features as K-Means reads them before standardising: log(1 + x) for recency,
    frequency and monetary, the open rate and nurturing score as they are."""
    columns = []
    for name in FEATURES:
        values = customers[name].astype("float64").to_numpy()
        columns.append(np.log1p(values) if name in LOG_FEATURES else values)
    return np.column_stack(columns)


def standardise(matrix: np.ndarray) -> np.ndarray:
    """Each column to mean 0, population standard deviation 1 (a constant column to 0)."""
    mean = matrix.mean(axis=0)
    std = matrix.std(axis=0)
    return (matrix - mean) / np.where(std > 0, std, 1.0)


def number_by_monetary(labels: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """Cluster numbers 1..m for K-Means' labels: by mean monetary descending, then size descending
    (then K-Means' label, which a fixed seed fixes). Labels without a member get no number."""
    frame = pd.DataFrame({"label": labels, "monetary": monetary})
    summary = frame.groupby("label")["monetary"].agg(["mean", "size"]).reset_index()
    summary = summary.sort_values(
        ["mean", "size", "label"], ascending=[False, False, True], kind="mergesort"
    )
    numbers = dict(zip(summary["label"], range(1, len(summary) + 1), strict=True))
    return np.array([numbers[label] for label in labels], dtype="int64")


def cluster_customers(
    customers: pd.DataFrame,
    *,
    cluster_count: int,
    seed: int,
    n_init: int,
    min_customers: int,
) -> Clustering:
    """K-Means over ``customers`` (contact_id and FEATURES, no nulls); see the module docstring."""
    if cluster_count < 1 or n_init < 1:
        raise ValueError(
            f"var cluster_count ({cluster_count}) and var cluster_n_init ({n_init}) must be >= 1"
        )
    missing = [name for name in ("contact_id", *FEATURES) if name not in customers]
    if missing:
        raise ValueError(f"cluster_customers: the customers frame lacks {missing}")
    needed = max(cluster_count, min_customers)
    if len(customers) < needed:
        message = (
            f"{len(customers)} customers as of the date, fewer than {needed} (var cluster_count "
            f"{cluster_count}, var cluster_min_customers {min_customers}): no clusters for this "
            "date"
        )
        return Clustering(empty_frame(), message, clustered=False)

    ordered = customers.sort_values("contact_id", kind="mergesort").reset_index(drop=True)
    features = ordered[list(FEATURES)].astype("float64")
    if features.isna().any().any():
        raise ValueError("cluster_customers: a feature is null (impute it before clustering)")
    standardised = standardise(transformed_features(features))
    with threadpool_limits(limits=1):
        kmeans = KMeans(
            n_clusters=cluster_count,
            init="k-means++",
            n_init=n_init,
            random_state=seed,
            tol=0.0,
            max_iter=1000,
            algorithm="lloyd",
        ).fit(standardised)
    numbers = number_by_monetary(kmeans.labels_, features["monetary"].to_numpy())

    out = pd.DataFrame({"contact_id": ordered["contact_id"].astype("string")})
    out["cluster_number"] = numbers
    for name in FEATURES:
        out[name] = features[name].to_numpy()
    for i, name in enumerate(FEATURES):
        out[STANDARDISED[name]] = standardised[:, i]
    sizes = np.bincount(numbers)[1:]
    message = (
        f"{len(ordered)} customers in {len(sizes)} clusters (k {cluster_count}, seed {seed}, "
        f"{n_init} starts, {kmeans.n_iter_} iterations of the best start), sizes "
        + ", ".join(str(size) for size in sizes)
    )
    return Clustering(out.astype(COLUMNS), message, clustered=True)
