"""The build job: dbt build (every model, seed, snapshot and test), then publishing; and the
automation job: dbt build of the automation models only, between the daily builds."""

import dagster as dg
from dagster_dbt import build_dbt_asset_selection

from orchestration.dbt import segment_warehouse_dbt
from orchestration.partitions import as_of_date_partitions
from orchestration.resources import WRITER_TAGS

BUILD_JOB_NAME = "segment_warehouse_build"

# Everything materialisable: the dbt assets, their checks, published_segments (the activation
# syncs have their own job, started after a build). Tagged as the warehouse writer, so
# dagster.yaml's run queue starts one such run at a time. Partitioned by as-of date
# (orchestration/partitions.py): a backfill of days is launched, watched and retried in the UI.
segment_warehouse_build = dg.define_asset_job(
    name=BUILD_JOB_NAME,
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("activation"),
    config=as_of_date_partitions,
    tags=WRITER_TAGS,
    description="dbt build with the run's as_of_date, then publish the marts for BI.",
)

AUTOMATION_JOB_NAME = "segment_warehouse_automation"

# The automation models and seed (dbt tag automation: models/*/automation, seed automation_steps)
# and their tests, as of the run's moment (config automation_as_of): the queue an ESP reads, kept
# fresh by the hour while the other marts keep the last daily build. The same writer tag and DuckDB
# pool as the build job, so it never runs while a build writes the warehouse (one writer).
automation_job = dg.define_asset_job(
    name=AUTOMATION_JOB_NAME,
    selection=build_dbt_asset_selection([segment_warehouse_dbt], dbt_select="tag:automation"),
    tags=WRITER_TAGS,
    description="dbt build of the automation models as of the run's moment (automation_as_of).",
)
