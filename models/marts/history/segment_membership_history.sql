-- One row per (as-of date, contact, segment family, segment): the membership of every day that was
-- built (one segment per family, except custom and static).
-- Each build replaces the rows of its own as_of_date (delete+insert on that date) and keeps the
-- other days, so a backfill or a rerun of a past day rewrites exactly that day.
-- On Spark (Parquet tables take no DELETE) the table is partitioned by as_of_date and a build
-- overwrites its own date's partition (insert_overwrite), which is the same.
-- full_refresh=false: `dbt build --full-refresh` (e.g. to read the raw files again) keeps the
-- history; drop the table by hand to start it over.
{{
    config(
        materialized='incremental',
        incremental_strategy=('delete+insert' if target.type == 'duckdb' else 'insert_overwrite'),
        unique_key=('as_of_date' if target.type == 'duckdb' else none),
        partition_by=(none if target.type == 'duckdb' else ['as_of_date']),
        on_schema_change='fail',
        full_refresh=false,
    )
}}

with

memberships as (
    select * from {{ ref('segment_membership') }}
),

final as (
    select
        memberships.as_of_date,
        memberships.contact_id,
        memberships.segment_family,
        memberships.segment,
        memberships.segment_key
    from memberships
)

select * from final
