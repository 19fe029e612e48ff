"""The Dagster code location: `dagster dev -m orchestration.definitions`."""

import dagster as dg

from activation.dagster_assets import (
    activation_after_build,
    activation_assets,
    activation_job,
    automation_delivery_after_automation,
    automation_delivery_job,
)
from orchestration.dbt import (
    segment_warehouse_dbt,
    shopify_table_specs,
    static_segments_spec,
)
from orchestration.jobs import automation_job, segment_warehouse_build
from orchestration.landing import raw_landing
from orchestration.publishing import customer_segments_not_empty, published_segments
from orchestration.report import segment_report
from orchestration.resources import ON_SPARK, dbt_resource
from orchestration.schedules import automation_hourly_schedule, daily_segments_schedule
from orchestration.sensors import raw_data_sensor

# What reads the DuckDB file (the serving file and report, the customer_segments check, the
# activation syncs) is left out on Spark: BI and apps query the Spark tables (README, "When one
# machine is not enough"); the dbt build, its tests as asset checks, the landing, the schedules and
# the raw-data sensor are the same.
duckdb_only = {
    "assets": [published_segments, segment_report, *activation_assets],
    "asset_checks": [customer_segments_not_empty],
    "jobs": [activation_job, automation_delivery_job],
    "sensors": [activation_after_build, automation_delivery_after_automation],
}

defs = dg.Definitions(
    assets=[
        raw_landing,
        *shopify_table_specs,
        static_segments_spec,
        segment_warehouse_dbt,
        *([] if ON_SPARK else duckdb_only["assets"]),
    ],
    asset_checks=[] if ON_SPARK else duckdb_only["asset_checks"],
    jobs=[segment_warehouse_build, automation_job, *([] if ON_SPARK else duckdb_only["jobs"])],
    schedules=[daily_segments_schedule, automation_hourly_schedule],
    sensors=[raw_data_sensor, *([] if ON_SPARK else duckdb_only["sensors"])],
    resources={"dbt": dbt_resource},
)
