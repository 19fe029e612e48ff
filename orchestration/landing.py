"""The raw files landed in the warehouse (segment-warehouse-land): Dagster assets before dbt.

One asset per entity of the raw contract, keyed as dbt source `raw` names it in meta.dagster
(models/staging/raw/_raw__sources.yml), so the ingest models that read each table hang below it.
One op lands them all (a file is read once; the loader reads only new and changed files).
"""

from collections.abc import Iterator

import dagster as dg

from orchestration.resources import DUCKDB_POOL, raw_data_path, warehouse_path
from segment_warehouse.landing import land, project_vars, raw_contract

RAW_CONTRACT = raw_contract()


class LandingConfig(dg.Config):
    """var csv_encoding of the landing: auto (UTF-8, else Latin-1, per file), utf-8, latin-1
    or utf-16; by default dbt_project.yml's, as the dbt build reads it."""

    csv_encoding: str = str(project_vars().get("csv_encoding") or "auto")


@dg.multi_asset(
    name="raw_landing",
    specs=[
        dg.AssetSpec(
            key=dg.AssetKey(list(entity.asset_key)),
            group_name="raw",
            kinds={"duckdb"},
            description=(
                f"Raw-contract `{entity.name}` rows landed from the files in SEGMENT_RAW_DATA_PATH"
                f" (the shop export) into table raw.{entity.name} by segment-warehouse-land."
            ),
        )
        for entity in RAW_CONTRACT.values()
    ],
    pool=DUCKDB_POOL,
)
def raw_landing(
    context: dg.AssetExecutionContext, config: LandingConfig
) -> Iterator[dg.MaterializeResult]:
    loads = land(warehouse_path(), raw_data_path(), config.csv_encoding, log=context.log.info)
    for load in loads:
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey(list(RAW_CONTRACT[load.entity].asset_key)),
            metadata={
                "files": load.files,
                "files_new_or_changed": load.new_or_changed,
                "files_removed": load.removed,
                "rows_landed": load.rows_landed,
            },
        )
