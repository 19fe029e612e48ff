"""The raw files landed in the warehouse (segment-warehouse-land): Dagster assets before dbt.

One asset per entity of the raw contract, keyed as dbt source `raw` names it in meta.dagster
(models/staging/raw/_raw__sources.yml), and one for the Online Retail lines (source
`online_retail`), so the models that read each table hang below it. One op lands them all (a file
is read once; the loader reads only new and changed files).

The op reads the build's dbt vars as the dbt op does (build_run_config gives both the same
dbt_vars; dbt_project.yml's vars under them) and lands what their source_system reads: the raw
contract's files, or the Online Retail file; the other assets are recorded with nothing landed
(a Shopify build lands nothing: its tables are read where the loader keeps them).
"""

import json
from collections.abc import Iterator
from typing import Any

import dagster as dg

from orchestration.dbt import LANDING_OP_NAME
from orchestration.resources import (
    ENGINE,
    ON_SPARK,
    WAREHOUSE_POOL,
    _from_repo_root,
    warehouse_path,
)
from segment_warehouse.landing import (
    land_source,
    online_retail_entity,
    raw_contract,
    settings,
)
from segment_warehouse.spark import land_on_spark

RAW_CONTRACT = raw_contract()
ONLINE_RETAIL = online_retail_entity("")
LANDED = {**RAW_CONTRACT, ONLINE_RETAIL.name: ONLINE_RETAIL}


class LandingConfig(dg.Config):
    """The build's dbt vars (source_system, raw_data_path, csv_encoding, raw_schema), as the dbt
    op gets them; csv_encoding, when set, overrides var csv_encoding: auto (UTF-8, else Latin-1,
    per file), utf-8, latin-1 or utf-16."""

    dbt_vars: dict[str, Any] = {}
    csv_encoding: str | None = None


def landing_settings(config: LandingConfig) -> dict[str, Any]:
    """What the landing does under this config: segment-warehouse-land's settings (the vars given,
    then dbt_project.yml's, then SEGMENT_RAW_DATA_PATH), with paths from the repository root."""
    values = settings(json.dumps(config.dbt_vars) if config.dbt_vars else None)
    values["raw_data_path"] = _from_repo_root(str(values["raw_data_path"]))
    values["online_retail_path"] = _from_repo_root(str(values["online_retail_path"]))
    values["database"] = warehouse_path()
    if config.csv_encoding:
        values["csv_encoding"] = config.csv_encoding
    return values


@dg.multi_asset(
    name=LANDING_OP_NAME,
    specs=[
        *(
            dg.AssetSpec(
                key=dg.AssetKey(list(entity.asset_key)),
                group_name="raw",
                kinds={ENGINE},
                description=(
                    f"Raw-contract `{entity.name}` rows landed from the files in"
                    " SEGMENT_RAW_DATA_PATH (the shop export) into table"
                    f" raw.{entity.name} by segment-warehouse-land."
                ),
            )
            for entity in RAW_CONTRACT.values()
        ),
        dg.AssetSpec(
            key=dg.AssetKey(list(ONLINE_RETAIL.asset_key)),
            group_name="raw",
            kinds={ENGINE},
            description=(
                "The UCI Online Retail lines (var online_retail_path, env"
                " SEGMENT_ONLINE_RETAIL_PATH) landed into table raw.online_retail_lines by"
                " segment-warehouse-land when source_system is online_retail."
            ),
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def raw_landing(
    context: dg.AssetExecutionContext, config: LandingConfig
) -> Iterator[dg.MaterializeResult]:
    values = landing_settings(config)
    # on Spark the loader lands into its own DuckDB file and declares the tables in Spark
    land = land_on_spark if ON_SPARK else land_source
    loads = {load.entity: load for load in land(values, log=context.log.info)}
    for entity in LANDED.values():
        load = loads.get(entity.name)
        metadata = (
            {
                "files": load.files,
                "files_new_or_changed": load.new_or_changed,
                "files_removed": load.removed,
                "rows_landed": load.rows_landed,
            }
            if load is not None
            else {
                "skipped": f"source_system is {values['source_system']}: nothing to land here",
                "rows_landed": 0,
            }
        )
        yield dg.MaterializeResult(asset_key=dg.AssetKey(list(entity.asset_key)), metadata=metadata)
