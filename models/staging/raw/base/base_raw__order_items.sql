-- Every raw order_items row with its data-quality failure: the ingested row (row checks) plus the
-- checks against other entities, run at read time. Read by stg_raw__order_items (usable rows) and
-- data_quality_issues (the others). The join that finds the line's order also brings the order's
-- contact, time, status and net amount, so the per-contact models need no second join of every line
-- against every order.
{%- set raw_types = ingested_raw_types('order_items') %}
with

ingested as (
    select * from {{ ref('ingest_raw__order_items') }}
),

orders as (
    select
        order_id,
        contact_id,
        ordered_at,
        status,
        amount_net
    from {{ ref('stg_raw__orders') }}
),

checked as (
    select
        ingested.*,
        orders.contact_id as order_contact_id,
        orders.ordered_at as order_ordered_at,
        orders.status as order_status,
        orders.amount_net as order_amount_net,
        coalesce(
            ingested.dq_row_failure,
            {{ dq_first_failure([
                ("orders.order_id is null", 'unknown_order', 'order_id'),
            ]) }}
        ) as dq_failure
    from ingested
    left join orders
        on ingested.order_id = orders.order_id
),

final as (
    select
        order_id,
        line_number,
        product_id,
        quantity,
        unit_price_net,
        order_contact_id,
        order_ordered_at,
        order_status,
        order_amount_net,
        order_id || '#' || line_number as record_key,
        key_hash,
        {{ dq_ingested_columns('order_items', raw_types) }}
    from checked
)

select * from final
