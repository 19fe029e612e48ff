-- Every raw carts row with its data-quality failure: the ingested row (row checks) plus the
-- checks against other entities, run at read time. Read by stg_raw__carts (usable rows) and
-- data_quality_issues (the others).
{%- set raw_types = ingested_raw_types('carts') %}
with

ingested as (
    select * from {{ ref('ingest_raw__carts') }}
),

contacts as (
    select contact_id from {{ ref('stg_raw__contacts') }}
),

checked as (
    select
        ingested.*,
        coalesce(
            ingested.dq_row_failure,
            {{ dq_first_failure([
                ("ingested.contact_id is not null and contacts.contact_id is null", 'unknown_contact', 'contact_id'),
            ]) }}
        ) as dq_failure
    from ingested
    left join contacts
        on ingested.contact_id = contacts.contact_id
),

final as (
    select
        cart_id,
        contact_id,
        created_at,
        updated_at,
        value_net,
        order_id,
        cart_id as record_key,
        key_hash,
        {{ dq_ingested_columns('carts', raw_types) }}
    from checked
)

select * from final
