"""The Dagster code location: `dagster dev -m orchestration.definitions`."""

import dagster as dg

from orchestration.dbt import raw_data_specs, segment_warehouse_dbt
from orchestration.jobs import segment_warehouse_build
from orchestration.publishing import customer_segments_not_empty, published_segments
from orchestration.resources import dbt_resource
from orchestration.schedules import daily_segments_schedule
from orchestration.sensors import raw_data_sensor

defs = dg.Definitions(
    assets=[*raw_data_specs, segment_warehouse_dbt, published_segments],
    asset_checks=[customer_segments_not_empty],
    jobs=[segment_warehouse_build],
    schedules=[daily_segments_schedule],
    sensors=[raw_data_sensor],
    resources={"dbt": dbt_resource},
)
