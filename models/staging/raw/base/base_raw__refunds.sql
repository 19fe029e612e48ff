-- Every raw refunds row with its data-quality failure: the ingested row (row checks) plus the checks
-- against orders and contacts, run at read time. Read by stg_raw__refunds (usable rows) and
-- data_quality_issues (the others).
{%- set raw_types = ingested_raw_types('refunds') %}
with

ingested as (
    select * from {{ ref('ingest_raw__refunds') }}
),

orders as (
    select
        order_id,
        contact_id
    from {{ ref('stg_raw__orders') }}
),

contacts as (
    select contact_id from {{ ref('stg_raw__contacts') }}
),

checked as (
    select
        ingested.*,
        -- The refund's own contact, else the contact of the order it refunds.
        coalesce(ingested.given_contact_id, orders.contact_id) as contact_id,
        coalesce(
            ingested.dq_row_failure,
            {{ dq_first_failure([
                ("ingested.order_id is not null and orders.order_id is null and ingested.given_contact_id is null", 'unknown_order', 'order_id'),
                ("coalesce(ingested.given_contact_id, orders.contact_id) is null", 'missing_key', 'contact_id'),
                ("contacts.contact_id is null", 'unknown_contact', 'contact_id'),
            ]) }}
        ) as dq_failure
    from ingested
    left join orders
        on ingested.order_id = orders.order_id
    left join contacts
        on coalesce(ingested.given_contact_id, orders.contact_id) = contacts.contact_id
),

final as (
    select
        refund_id,
        order_id,
        contact_id,
        refunded_at,
        amount_net,
        refund_id as record_key,
        key_hash,
        {{ dq_ingested_columns('refunds', raw_types, {'contact_id': 'given_contact_id'}) }}
    from checked
)

select * from final
