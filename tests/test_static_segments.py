"""What builds nothing about custom and static segments: every family of segment_membership can be
chosen by a destination, static segment names, and segment-warehouse-freeze's errors for a missing
warehouse and for one another process holds. tests/test_custom_segments.py builds the rest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import ROOT

from activation.config import FAMILIES
from segment_warehouse import static_segments
from segment_warehouse.static_segments import StaticSegmentError


def _accepted_families(path: str, model: str) -> list[str]:
    models = yaml.safe_load((ROOT / path).read_text())["models"]
    columns = next(m for m in models if m["name"] == model)["columns"]
    tests = next(c for c in columns if c["name"] == "segment_family")["data_tests"]
    return next(
        t["accepted_values"]["arguments"]["values"] for t in tests if "accepted_values" in t
    )


def test_a_destination_can_choose_every_family_of_segment_membership() -> None:
    membership = _accepted_families(
        "models/marts/segments/_segments__models.yml", "segment_membership"
    )
    history = _accepted_families(
        "models/marts/history/_history__models.yml", "segment_membership_history"
    )
    assert list(FAMILIES) == membership == history
    assert {"custom", "static"} <= set(FAMILIES)


def test_static_segment_names_are_checked_like_custom_ones() -> None:
    assert static_segments.slug("Spring promo 2025") == "spring_promo_2025"
    assert static_segments.slug("Can't Lose-Them") == "cant_lose_them"
    assert static_segments.check_name("spring_promo") == "spring_promo"
    for bad in ("", "_x", "a/b", "x" * 64, "é"):
        with pytest.raises(StaticSegmentError, match="not a valid segment name"):
            static_segments.check_name(bad)


def test_a_missing_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StaticSegmentError, match="warehouse not found; build it first"):
        static_segments.freeze(tmp_path / "none.duckdb", "x", "rfm", "Champions")


def test_a_warehouse_held_by_a_build_is_a_clear_error(tmp_path: Path) -> None:
    """DuckDB lets one process write a file: the command names the file and says to wait."""
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as held:
        held.execute("select 1")
        completed = subprocess.run(
            [sys.executable, "-m", "segment_warehouse.static_segments", "x", "--custom", "y"],
            cwd=ROOT,
            env={**os.environ, "DBT_DUCKDB_PATH": str(db)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert completed.returncode == 1, completed
    assert f"the warehouse {db} is in use by another process" in completed.stderr
    assert "run the command again when it is done" in completed.stderr
