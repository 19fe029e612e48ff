"""Dagster: one asset per enabled destination of destinations.yml (read when the definitions
load), downstream of the dbt model `activation_members` (each destination's exposure reads it),
or `activation_automation_steps` for the automation destinations (automation_events,
automation_lists), in group `activation`.

Each sync opens the warehouse to write its ledger, so each asset is in the DuckDB pool (one op
at a time with dbt and publishing) and the job carries the writer tag. The assets are
independent: one destination failing (after its retries) does not stop the others. Job
`activation_sync` syncs them all; sensor `activation_after_build` requests it after every
successful `segment_warehouse_build` run. Job `automation_delivery` syncs the automation
destinations only; sensor `automation_delivery_after_automation` requests it after every
successful hourly automation run (`segment_warehouse_automation`), so a step due at 14:00 is sent
minutes after the 14:00 build issued it. Both jobs carry the writer tag: never two at once.
"""

import logging

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from activation.config import (
    AUTOMATION_TYPES,
    ActivationConfig,
    ConfigError,
    Destination,
    load_config,
)
from activation.sync import sync_destination
from orchestration.dbt import segment_warehouse_dbt
from orchestration.jobs import automation_job, segment_warehouse_build
from orchestration.resources import DUCKDB_POOL, WRITER_TAGS, warehouse_path

ACTIVATION_GROUP = "activation"
ACTIVATION_JOB_NAME = "activation_sync"
AUTOMATION_DELIVERY_JOB_NAME = "automation_delivery"
# The tag of the automation destinations' assets (selected by job automation_delivery).
DELIVERS_TAG = "segment_warehouse/delivers"
SYNC_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL)
_KINDS = {
    "files": {"csv", "parquet"},
    "ad_audience": {"csv", "parquet"},
    "postgres": {"postgres"},
    "http": {"python"},
    "automation_events": {"python"},
    "automation_lists": {"csv"},
}

log = logging.getLogger(__name__)


def activation_asset_key(name: str) -> dg.AssetKey:
    return dg.AssetKey([ACTIVATION_GROUP, name])


def _destination_asset(
    destination: Destination, retry_policy: dg.RetryPolicy
) -> dg.AssetsDefinition:
    automation = destination.type in AUTOMATION_TYPES
    description = (
        f"Delivery of destination `{destination.name}` ({destination.type}): the issued "
        "automation steps of activation_automation_steps it has not acknowledged, each once."
        if automation
        else f"Sync of destination `{destination.name}` ({destination.type}, {destination.mode}): "
        "the changes of its segments of activation_members since its last acknowledged sync."
    )
    model = "activation_automation_steps" if automation else "activation_members"

    @dg.asset(
        key=activation_asset_key(destination.name),
        deps=[get_asset_key_for_model([segment_warehouse_dbt], model)],
        group_name=ACTIVATION_GROUP,
        kinds=_KINDS[destination.type],
        tags={DELIVERS_TAG: "automation" if automation else "segments"},
        retry_policy=retry_policy,
        pool=DUCKDB_POOL,
        description=description,
    )
    def _sync(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        try:
            result = sync_destination(warehouse_path(), destination)
        except ConfigError as error:
            # A missing secret is not fixed by retrying.
            raise dg.Failure(description=str(error), allow_retries=False) from error
        context.log.info("%s: %s", destination.name, result.as_dict())
        metadata = {key: value for key, value in result.as_dict().items() if key != "pending"}
        return dg.MaterializeResult(metadata=metadata)

    return _sync


def build_activation_assets(
    config: ActivationConfig | None = None,
    retry_policy: dg.RetryPolicy = SYNC_RETRY_POLICY,
) -> list[dg.AssetsDefinition]:
    """An asset per enabled destination (none when there is no destinations file)."""
    if config is None:
        try:
            config = load_config()
        except ConfigError as error:
            if "not found" not in str(error):
                raise
            log.warning("%s: no activation assets", error)
            return []
    return [_destination_asset(d, retry_policy) for d in config.destinations if d.enabled]


activation_assets = build_activation_assets()

activation_job = dg.define_asset_job(
    name=ACTIVATION_JOB_NAME,
    selection=dg.AssetSelection.groups(ACTIVATION_GROUP),
    tags=WRITER_TAGS,
    description="Sync every enabled destination of destinations.yml; each is its own asset.",
)

automation_delivery_job = dg.define_asset_job(
    name=AUTOMATION_DELIVERY_JOB_NAME,
    selection=dg.AssetSelection.groups(ACTIVATION_GROUP)
    & dg.AssetSelection.tag(DELIVERS_TAG, "automation"),
    tags=WRITER_TAGS,
    description="Deliver the issued automation steps to the automation destinations "
    "(automation_events, automation_lists) of destinations.yml.",
)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[segment_warehouse_build],
    request_job=activation_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Syncs the destinations after every successful build.",
)
def activation_after_build(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=f"activation-after-{context.dagster_run.run_id}")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[automation_job],
    request_job=automation_delivery_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Delivers the automation steps after every successful hourly automation build.",
)
def automation_delivery_after_automation(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=f"automation-delivery-after-{context.dagster_run.run_id}")
