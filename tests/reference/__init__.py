"""Independent pandas reference implementation of the segment rules (no SQL, no DuckDB).

Written from `SPEC.md` sections 0-3 and 9 and `docs/rules.md` so that the dbt marts can be
checked contact by contact against it.
"""

from .segments import (
    DEFAULT_THRESHOLDS,
    LIFECYCLE_STAGES,
    PROSPECT_SEGMENT,
    RFM_SEGMENT_MAP,
    clean_raw_contract,
    compute_segments,
    load_online_retail,
    load_raw_contract,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "LIFECYCLE_STAGES",
    "PROSPECT_SEGMENT",
    "RFM_SEGMENT_MAP",
    "clean_raw_contract",
    "compute_segments",
    "load_online_retail",
    "load_raw_contract",
]
