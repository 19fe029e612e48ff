"""The build job: dbt build (every model, seed, snapshot and test), then publishing."""

import dagster as dg

from orchestration.resources import WRITER_TAGS

BUILD_JOB_NAME = "segment_warehouse_build"

# Everything materialisable: the dbt assets, their checks, published_segments (the activation
# syncs have their own job, started after a build). Tagged as the warehouse writer, so
# dagster.yaml's run queue starts one such run at a time.
segment_warehouse_build = dg.define_asset_job(
    name=BUILD_JOB_NAME,
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("activation"),
    tags=WRITER_TAGS,
    description="dbt build with the run's as_of_date, then publish the marts for BI.",
)
