-- The usable order_items of the raw contract: parsed, deduplicated; the rest is in data_quality_issues.
with

checked as (
    select * from {{ ref('base_raw__order_items') }}
),

usable as (
    select
        order_id,
        line_number,
        product_id,
        quantity,
        unit_price_net
    from checked
    where dq_failure is null
)

select * from usable
