"""The CDNOW sample of Fader, Hardie and Lee (``../shared/data/cdnow_sample/``) written as a store
of the raw data contract, so that the published BG/NBD and Gamma-Gamma estimates can be checked
through the whole warehouse (raw contract -> staging -> intermediate -> predictive marts).

``CDNOW_sample.txt`` has no header: master customer id, sample customer id (1 to 2,357), date
(YYYYMMDD), number of CDs, dollar amount. Each line becomes one completed order of the sample
customer (contact_id = the sample id as a number, e.g. ``'1'``) at midnight UTC of its date, its
amount net; each customer becomes a contact created on their first purchase day.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

CDNOW_DIR = Path("/work/shared/data/cdnow_sample")
CDNOW_FILE = CDNOW_DIR / "CDNOW_sample.txt"
CDNOW_SUMMARY_WEEKS = CDNOW_DIR / "cdnow_sample_summary_weeks.csv"
#: the end of the paper's 39-week calibration period
CDNOW_AS_OF = "1997-09-30"


def read_cdnow_sample(path: Path = CDNOW_FILE) -> pd.DataFrame:
    """The transactions: customer (sample id as text), ordered_at (UTC), cds, amount."""
    frame = pd.read_csv(
        path,
        sep=r"\s+",
        header=None,
        names=["master_id", "customer", "date", "cds", "amount"],
        dtype={"master_id": str, "customer": str, "date": str},
    )
    if frame.empty or frame["amount"].isna().any():
        raise ValueError(f"{path}: expected 5 whitespace-separated columns on every line")
    frame["customer"] = frame["customer"].astype(int).astype(str)
    frame["ordered_at"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def write_cdnow_store(out: Path, path: Path = CDNOW_FILE) -> Path:
    """Writes ``contacts.parquet`` and ``orders.parquet`` of the raw contract into ``out``."""
    transactions = read_cdnow_sample(path)
    out.mkdir(parents=True, exist_ok=True)
    orders = pd.DataFrame(
        {
            "order_id": [f"cdnow-{i + 1}" for i in range(len(transactions))],
            "contact_id": transactions["customer"],
            "ordered_at": transactions["ordered_at"],
            "status": "completed",
            "amount_net": transactions["amount"].map(lambda v: f"{v:.2f}"),
        }
    )
    contacts = (
        transactions.groupby("customer", as_index=False)["ordered_at"]
        .min()
        .rename(columns={"customer": "contact_id", "ordered_at": "created_at"})
    )
    orders.to_parquet(out / "orders.parquet", index=False)
    contacts.to_parquet(out / "contacts.parquet", index=False)
    return out
