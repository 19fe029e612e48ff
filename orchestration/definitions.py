"""The Dagster code location: `dagster dev -m orchestration.definitions`."""

import dagster as dg

from activation.dagster_assets import activation_after_build, activation_assets, activation_job
from orchestration.dbt import raw_data_specs, segment_warehouse_dbt
from orchestration.jobs import segment_warehouse_build
from orchestration.publishing import customer_segments_not_empty, published_segments
from orchestration.resources import dbt_resource
from orchestration.schedules import daily_segments_schedule
from orchestration.sensors import raw_data_sensor

defs = dg.Definitions(
    assets=[*raw_data_specs, segment_warehouse_dbt, published_segments, *activation_assets],
    asset_checks=[customer_segments_not_empty],
    jobs=[segment_warehouse_build, activation_job],
    schedules=[daily_segments_schedule],
    sensors=[raw_data_sensor, activation_after_build],
    resources={"dbt": dbt_resource},
)
