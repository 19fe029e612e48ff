"""The dbt project as Dagster assets (models, seeds, snapshots); dbt tests are asset checks."""

import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.resources import ENGINE, WAREHOUSE_POOL, dbt_project
from segment_warehouse.landing import raw_contract

DBT_ASSETS_NAME = "segment_warehouse_dbt"
#: The op that lands the raw files before dbt (orchestration/landing.py).
LANDING_OP_NAME = "raw_landing"
#: How the build gets its as-of date (macros/vars.sql as_of_date): an environment variable, not
#: --vars, so dbt reuses its last parse of the project (new --vars make it parse everything again).
AS_OF_DATE_ENV = "SEGMENT_AS_OF_DATE"
#: How a build gets the moment the automation queue is computed as of (macros/automation.sql), for
#: the same reason.
AUTOMATION_AS_OF_ENV = "SEGMENT_AUTOMATION_AS_OF"

# Raw-contract entities, as dbt source `raw` declares them (models/staging/raw/_raw__sources.yml):
# the base_raw__<entity> models read them through source(), whose meta.dagster asset keys put the
# landed tables (orchestration/landing.py, which lands the Online Retail file too) upstream of them.
RAW_ENTITIES = tuple(raw_contract())

#: The Shopify tables a loader keeps up to date (source_system: shopify): dbt's source `shopify`
#: names each one's asset key in meta.dagster (models/staging/shopify/_shopify__sources.yml), so
#: the base models that read them hang below these specs.
SHOPIFY_TABLES = ("customer", "order", "refund", "order_line_refund")

shopify_table_specs = [
    dg.AssetSpec(
        key=dg.AssetKey(["shopify", table]),
        group_name="raw",
        kinds={"shopify", "fivetran"},
        description=(
            f"The Shopify `{table}` table as Fivetran's Shopify connector loads it (vars "
            "shopify_database, shopify_schema), read when source_system is shopify."
        ),
    )
    for table in SHOPIFY_TABLES
]

#: The frozen members of static segments (SPEC 11): written by `segment-warehouse-freeze`, never by
#: dbt; source static_segments names this key in meta.dagster, so stg_static_segments__members
#: hangs below it.
static_segments_spec = dg.AssetSpec(
    key=dg.AssetKey(["static_segments", "static_segment_members"]),
    group_name="raw",
    kinds={ENGINE},
    description=(
        "Static segments' frozen members (table static_segments.static_segment_members in the "
        "warehouse), written, listed and dropped by the command segment-warehouse-freeze; no "
        "build changes them."
    ),
)

KEEP_RUN_TARGET_DIRS = 10

BUILD_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL)


class SegmentWarehouseTranslator(DagsterDbtTranslator):
    """Groups assets by dbt layer (the sources' meta.dagster asset keys hang the landed tables
    upstream of the models that read them)."""

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        return spec.replace_attributes(group_name=layer_of(props))


def layer_of(props: Mapping[str, Any]) -> str:
    """staging / intermediate / marts for models (their top folder), seeds, snapshots."""
    resource_type = props.get("resource_type")
    if resource_type == "seed":
        return "seeds"
    if resource_type == "snapshot":
        return "snapshots"
    fqn = props.get("fqn") or []
    return fqn[1] if len(fqn) > 2 else "default"


class DbtBuildConfig(dg.Config):
    """as_of_date of the build (YYYY-MM-DD; empty = today in UTC), any other dbt vars, and whether
    to run the dbt unit tests too (they test SQL logic on fixed inputs, not the data: CI runs them
    on every change, so the scheduled builds leave them out, as dbt recommends)."""

    as_of_date: str | None = None
    dbt_vars: dict[str, Any] = {}
    unit_tests: bool = False
    #: The moment (UTC, YYYY-MM-DD HH:MM[:SS], on as_of_date) the automation queue is computed as
    #: of; empty = dbt's default (the end of the as-of date, or the run's start for today).
    automation_as_of: str | None = None


def resolve_as_of_date(value: str | None) -> str:
    if not value:
        return dt.datetime.now(dt.UTC).date().isoformat()
    return dt.date.fromisoformat(value).isoformat()


def dbt_build_args(
    extra_vars: Mapping[str, Any] | None = None, unit_tests: bool = False
) -> list[str]:
    """`dbt build`, with `--vars` only for vars other than the as-of date (which goes through
    AS_OF_DATE_ENV, see as_of_date_env), and without the unit tests unless asked (models, seeds and
    data tests always run)."""
    if extra_vars and "as_of_date" in extra_vars:
        raise ValueError("set the build's date with as_of_date in the op config, not in dbt_vars")
    args = ["build"]
    if extra_vars:
        args += ["--vars", json.dumps(dict(extra_vars), sort_keys=True)]
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    return args


@contextmanager
def as_of_date_env(as_of_date: str, automation_as_of: str | None = None) -> Iterator[None]:
    """AS_OF_DATE_ENV set to the build's date, and AUTOMATION_AS_OF_ENV to the automation moment
    (unset when empty), while dbt is started (it copies the environment)."""
    values = {AS_OF_DATE_ENV: as_of_date, AUTOMATION_AS_OF_ENV: automation_as_of}
    previous = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def resolve_automation_as_of(as_of_date: str, value: str | None) -> str | None:
    """The automation moment as `YYYY-MM-DD HH:MM:SS` (UTC), checked to fall on the as-of date."""
    if not value:
        return None
    moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    if moment.date().isoformat() != as_of_date:
        raise ValueError(
            f"automation_as_of {value} is not on the as-of date {as_of_date}:"
            " set as_of_date to its day"
        )
    return moment.isoformat(sep=" ", timespec="seconds")


def build_run_config(
    as_of_date: str, automation_as_of: str | None = None, **dbt_vars: Any
) -> dict[str, Any]:
    """Run config of the build job (or the automation job) for one as-of date. Other dbt vars go
    to the dbt op and, in the build job, to the landing op (raw_landing), which lands what their
    source_system reads (the automation job lands nothing: it has no landing op)."""
    config: dict[str, Any] = {"as_of_date": as_of_date}
    if automation_as_of:
        config["automation_as_of"] = automation_as_of
    if dbt_vars:
        config["dbt_vars"] = dbt_vars
    if not dbt_vars or automation_as_of:
        return {"ops": {DBT_ASSETS_NAME: {"config": config}}}
    return {
        "ops": {
            DBT_ASSETS_NAME: {"config": config},
            LANDING_OP_NAME: {"config": {"dbt_vars": dbt_vars}},
        }
    }


def prune_run_target_dirs(current: Path, keep: int = KEEP_RUN_TARGET_DIRS) -> list[Path]:
    """Remove all but the newest `keep` per-run dbt target folders beside `current`.

    dagster-dbt gives every invocation its own folder (`<op>-<run>-<id>`, about 10 MB with the
    manifest) under target/ (or DBT_TARGET_PATH); without pruning they pile up one per run.
    """
    siblings = sorted(
        (path for path in current.parent.glob(f"{DBT_ASSETS_NAME}-*") if path.is_dir()),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    removed = [path for path in siblings[keep:] if path != current]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def _failed_check_name(event: Any) -> str | None:
    if not isinstance(event, dg.AssetCheckResult | dg.AssetCheckEvaluation):
        return None
    if event.passed or event.severity != dg.AssetCheckSeverity.ERROR:
        return None
    return f"{event.asset_key.to_user_string()}:{event.check_name}"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=SegmentWarehouseTranslator(),
    name=DBT_ASSETS_NAME,
    retry_policy=BUILD_RETRY_POLICY,
    pool=WAREHOUSE_POOL,
)
def segment_warehouse_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
) -> Iterator[Any]:
    as_of_date = resolve_as_of_date(config.as_of_date)
    automation_as_of = resolve_automation_as_of(as_of_date, config.automation_as_of)
    args = dbt_build_args(config.dbt_vars, config.unit_tests)
    context.log.info(
        "%s=%s %s=%s dbt %s",
        AS_OF_DATE_ENV,
        as_of_date,
        AUTOMATION_AS_OF_ENV,
        automation_as_of or "",
        " ".join(args),
    )
    with as_of_date_env(as_of_date, automation_as_of):
        invocation = dbt.cli(args, context=context, raise_on_error=False)
    failed_checks: list[str] = []
    try:
        for event in invocation.stream():
            name = _failed_check_name(event)
            if name:
                failed_checks.append(name)
            yield event
    finally:
        prune_run_target_dirs(Path(invocation.target_path))
    if not invocation.is_successful():
        if failed_checks:
            # A failing data test is not fixed by retrying: fail now, naming the checks.
            raise dg.Failure(
                description="dbt tests failed, nothing is published: " + ", ".join(failed_checks),
                metadata={"failed_checks": failed_checks},
                allow_retries=False,
            )
        raise dg.Failure(
            description=f"dbt build failed: {invocation.get_error()}",
            allow_retries=True,
        )
