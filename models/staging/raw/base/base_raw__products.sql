-- Every raw products row with its data-quality failure: the ingested row (row checks) plus the
-- checks against other entities, run at read time. Read by stg_raw__products (usable rows) and
-- data_quality_issues (the others).
{%- set raw_types = ingested_raw_types('products') %}
with

ingested as (
    select * from {{ ref('ingest_raw__products') }}
),

checked as (
    select
        ingested.*,
        ingested.dq_row_failure as dq_failure
    from ingested
),

final as (
    select
        product_id,
        product_name,
        category,
        price_net,
        product_id as record_key,
        key_hash,
        {{ dq_ingested_columns('products', raw_types) }}
    from checked
)

select * from final
