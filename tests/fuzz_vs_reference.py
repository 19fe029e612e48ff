"""Random builds held against the pandas reference: `make fuzz` (or
`python tests/fuzz_vs_reference.py --cases 10 --seed 1`).

Each case draws a store (a generated one of 1 to 1,500 contacts, Parquet or CSV, or the real
Online Retail file), an as-of date (before, inside and after the history) and a set of vars
(every window from 0 days up, thresholds or quantile scoring, engagement, score and profile
vars), runs the whole `dbt build` with every data and unit test, and compares every contact of
the segment marts (and, on generated stores, the engagement, score and profile marts) with
`tests/reference/`. The vars are drawn only among those the project accepts (see
`check_lifecycle_vars` in macros/vars.sql). Not part of `make test`: a case costs 10 to 30 s.
Exit status 1 when any case differs or fails to build; the draws are printed, so a failing case
can be rebuilt with the same --seed.

Session 5 found two bugs this way (unit tests that failed under a user's vars, and lifecycle vars
that put a contact in two stages).
"""

from __future__ import annotations

import argparse
import random
import sys
import traceback
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent
sys.path[:0] = [str(TESTS), str(TESTS.parent)]

import test_engagement_vs_reference as engagement_tests  # noqa: E402
from conftest import (  # noqa: E402
    ONLINE_RETAIL_FILE,
    assert_segments_match,
    generate_demo_store,
    query,
    ref,
    reference_records,
    run_build,
)

GENERATED_AS_OF = ["2025-06-30", "2025-07-15", "2025-01-01", "2024-01-01", "2023-06-30"]
RETAIL_AS_OF = ["2010-12-01", "2010-12-02", "2011-03-31", "2011-12-09", "2012-06-30"]


def draw_vars(rng: random.Random, engagement: bool) -> dict[str, Any]:
    """Vars the project accepts: windows from 0 days, loyal_min_orders >= 2, lapsed >= active."""
    days = [0, 1, 7, 30, 60, 90, 365]
    active = rng.choice([0, 1, 7, 30, 90, 180])
    values: dict[str, Any] = {
        "active_days": active,
        "lapsed_days": active + rng.choice([0, 1, 100, 300]),
        "loyal_min_orders": rng.choice([2, 3, 4, 10]),
    }
    if rng.random() < 0.5:
        values["rfm_window_days"] = rng.choice([0, 1, 30, 90, 400])
    if rng.random() < 0.3:
        values["rfm_scoring"] = "thresholds"
    for name in (
        "new_subscriber_days",
        "first_buyer_days",
        "two_time_buyer_days",
        "one_time_lapse_days",
        "repeat_lapse_days",
    ):
        if rng.random() < 0.6:
            values[name] = rng.choice(days)
    if engagement:
        hot = rng.choice([0, 10, 40, 80])
        values.update(
            engagement_window_days=rng.choice([0, 1, 30, 90, 400]),
            super_active_open_rate=rng.choice([0, 0.25, 0.5, 0.8, 1]),
            super_active_min_sends=rng.choice([0, 1, 3, 10]),
            score_window_days=rng.choice([0, 1, 7, 30, 90]),
            score_half_life_days=rng.choice([1, 3, 14, 60]),
            score_cap=rng.choice([0, 10, 100, 1000]),
            score_hot_min=hot,
            score_warm_min=rng.choice([0, hot // 2, hot]),
            behaviour_window_days=rng.choice([0, 1, 30, 120]),
            funnel_window_days=rng.choice([0, 1, 30, 120]),
            store_radius_km=rng.choice([0, 1, 25, 500]),
        )
    return values


def run_case(rng: random.Random, number: int, out: Path) -> tuple[str, str]:
    """One random build and its comparison: (outcome, description)."""
    retail = rng.random() < 0.25
    folder = out / f"case_{number:03d}"
    if retail:
        as_of = rng.choice(RETAIL_AS_OF)
        values = draw_vars(rng, engagement=False)
        what = f"online_retail as of {as_of}, vars {values}"
        source: Any = {
            "source_system": "online_retail",
            "online_retail_path": str(ONLINE_RETAIL_FILE),
        }
        data = ref.load_online_retail(ONLINE_RETAIL_FILE)
    else:
        contacts = rng.choice([1, 2, 5, 40, 400, 1500])
        seed = rng.randint(1, 10**6)
        fmt = rng.choice(["parquet", "csv"])
        as_of = rng.choice(GENERATED_AS_OF)
        values = draw_vars(rng, engagement=True)
        what = f"{contacts} contacts (seed {seed}, {fmt}) as of {as_of}, vars {values}"
        source = generate_demo_store(
            folder / "store", fmt=fmt, contacts=contacts, seed=seed, as_of="2025-06-30"
        )
        data = ref.load_raw_contract(source)
    db = run_build(
        source, as_of, folder / "build", vars=values, with_tests=True, unit_tests=True
    ).check()
    expected = reference_records(data, as_of, values)
    if not expected:
        [(rows,)] = query(db, "select count(*) from main.customer_segments")
        assert rows == 0, f"{what}: the reference has no contact, the warehouse {rows}"
        return "empty", what + " (no contact exists yet on either side)"
    assert_segments_match(db, expected, rfm_window="rfm_window_days" in values, what=what)
    if not retail:
        activity = dict(data)
        activity.update(engagement_tests.eng.load_activity(source))
        engagement_tests._assert_marts_match(
            db, engagement_tests._reference(activity, as_of, values), what
        )
    return "ok", f"{what}: {len(expected)} contacts equal"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=TESTS.parent / "target" / "fuzz")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    failed = 0
    for number in range(args.cases):
        try:
            outcome, text = run_case(rng, number, args.out / f"seed_{args.seed}")
        except AssertionError as error:
            outcome, text = "DIFFERS", str(error)[-3000:]
        except Exception:  # a case that could not be built or compared is a failure too
            outcome, text = "ERROR", traceback.format_exc()[-3000:]
        failed += outcome in ("DIFFERS", "ERROR")
        print(f"[{number + 1}/{args.cases}] {outcome}: {text}", flush=True)
    print(
        f"{args.cases - failed} of {args.cases} cases agree with the reference (seed {args.seed})"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
