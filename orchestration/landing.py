"""The raw files landed in the warehouse (segment-warehouse-land): Dagster assets before dbt.

One asset per entity of the raw contract, keyed as dbt source `raw` names it in meta.dagster
(models/staging/raw/_raw__sources.yml), so the ingest models that read each table hang below it.
One op lands them all (a file is read once; the loader reads only new and changed files).

The op reads the build's dbt vars as the dbt op does (build_run_config gives both the same
dbt_vars; dbt_project.yml's vars under them): a build whose source_system is not `raw` (Online
Retail, Shopify tables) has no raw files to land, and the assets are recorded with nothing landed.
"""

import json
from collections.abc import Iterator
from typing import Any

import dagster as dg

from orchestration.dbt import LANDING_OP_NAME
from orchestration.resources import DUCKDB_POOL, _from_repo_root, warehouse_path
from segment_warehouse.landing import land, raw_contract, settings

RAW_CONTRACT = raw_contract()


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
    values["database"] = warehouse_path()
    if config.csv_encoding:
        values["csv_encoding"] = config.csv_encoding
    return values


@dg.multi_asset(
    name=LANDING_OP_NAME,
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
    values = landing_settings(config)
    if values["source_system"] != "raw":
        message = f"source_system is {values['source_system']}: no raw file to land"
        context.log.info(f"landing: {message}")
        for entity in RAW_CONTRACT.values():
            yield dg.MaterializeResult(
                asset_key=dg.AssetKey(list(entity.asset_key)),
                metadata={"skipped": message, "rows_landed": 0},
            )
        return
    loads = land(
        values["database"],
        values["raw_data_path"],
        values["csv_encoding"],
        values["raw_schema"],
        log=context.log.info,
    )
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
