"""Paths and dbt resources of the Dagster package, read from the environment at call time."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from segment_warehouse.spark import target_type

REPO_ROOT = Path(__file__).resolve().parent.parent

# The engine is chosen by one setting, the dbt target (env DBT_TARGET, which dbt reads too; else
# profiles.yml's default, dev = DuckDB). On spark the same definitions run without what only the
# DuckDB file needs (README, "When one machine is not enough"): the one-op pool below, the
# serving file and report, and the activation syncs (they read the DuckDB file).
DBT_TARGET = os.environ.get("DBT_TARGET") or None
ENGINE = target_type(DBT_TARGET)
ON_SPARK = ENGINE == "spark"

# Runs that write the DuckDB warehouse carry this tag; dagster.yaml lets one such run at a time.
WRITER_TAGS = {"segment_warehouse/duckdb": "writer"}
# Every op that opens the warehouse file (dbt, checks, publishing) is in this pool, limited to one
# op at a time in dagster.yaml, so that runs of any job (UI materialisations included) never open
# it while dbt writes. Spark has no such limit (its catalog takes readers during a build): no pool.
DUCKDB_POOL = "segment_warehouse_duckdb"
WAREHOUSE_POOL = None if ON_SPARK else DUCKDB_POOL

# The folders and files whose changes change the dbt manifest.
_DBT_SOURCES = ("models", "seeds", "snapshots", "macros", "data-tests", "dbt_project.yml")


log = logging.getLogger(__name__)


def dbt_executable() -> str:
    """dbt next to this Python (the project's .venv/bin/dbt), else dbt on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else shutil.which("dbt") or "dbt"


def _from_repo_root(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def warehouse_path() -> Path:
    """The DuckDB file dbt writes (DBT_DUCKDB_PATH, as in profiles.yml)."""
    return _from_repo_root(os.environ.get("DBT_DUCKDB_PATH", "target/segment_warehouse.duckdb"))


def raw_data_path() -> Path:
    """The raw-contract folder dbt reads (SEGMENT_RAW_DATA_PATH, as in dbt_project.yml)."""
    return _from_repo_root(os.environ.get("SEGMENT_RAW_DATA_PATH", "data/demo_store"))


def serving_dir() -> Path:
    """Where the published Parquet files and serving.duckdb live (SEGMENT_SERVING_DIR)."""
    return _from_repo_root(os.environ.get("SEGMENT_SERVING_DIR", "target/serving"))


def _manifest_is_stale(project: DbtProject) -> bool:
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    # a manifest parsed for the other engine (a `dbt --target spark` run writes target/ too)
    try:
        adapter = json.loads(manifest.read_text()).get("metadata", {}).get("adapter_type")
    except (OSError, ValueError):
        return True
    if adapter != ENGINE:
        return True
    built = manifest.stat().st_mtime
    for name in _DBT_SOURCES:
        root = REPO_ROOT / name
        paths = [root] if root.is_file() else (root.rglob("*") if root.is_dir() else [])
        if any(path.is_file() and path.stat().st_mtime > built for path in paths):
            return True
    return False


def prepare_dbt_project() -> DbtProject:
    """The dbt project, with a manifest that matches the SQL and YAML on disk.

    `dagster dev` re-parses on every load (like DbtProject.prepare_if_dev). Elsewhere (tests, CI,
    a fresh clone, `dagster job execute`) `dbt parse` runs when target/manifest.json is missing or
    older than the dbt sources; it needs no data: the raw readers only touch files when dbt
    executes.
    """
    # The manifest depends on the target (the Python models are DuckDB-only): Spark's lives apart.
    project = DbtProject(
        project_dir=REPO_ROOT,
        profiles_dir=REPO_ROOT,
        target=DBT_TARGET,
        target_path=Path("target/dagster-spark") if ON_SPARK else Path("target"),
    )
    if project.preparer.using_dagster_dev() or _manifest_is_stale(project):
        invocation = DbtCliResource(project_dir=project, dbt_executable=dbt_executable()).cli(
            ["parse", "--quiet"], target_path=project.target_path, raise_on_error=False
        )
        invocation.wait()
        if not invocation.is_successful():
            if not project.manifest_path.exists():
                raise RuntimeError(f"dbt parse failed: {invocation.get_error()}")
            log.warning("dbt parse failed, using the existing %s", project.manifest_path)
    return project


dbt_project = prepare_dbt_project()
dbt_resource = DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
