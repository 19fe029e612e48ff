-- The usable order_items of the raw contract: parsed, deduplicated; the rest is in data_quality_issues.
-- A view: at scale this entity is tens of millions of rows, read once by the models that aggregate it.
{{ config(materialized='view') }}

with

checked as (
    {{ dq_usable_rows('base_raw__order_items', 'base_raw__order_items_duplicates') }}
),

usable as (
    select
        order_id,
        line_number,
        product_id,
        quantity,
        unit_price_net,
        order_contact_id as contact_id,
        order_ordered_at as ordered_at,
        order_status,
        order_amount_net
    from checked
)

select * from usable
