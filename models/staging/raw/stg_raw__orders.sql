-- The usable orders of the raw contract: parsed, deduplicated; the rest is in data_quality_issues.
with

checked as (
    {{ dq_usable_rows('base_raw__orders', 'base_raw__orders_duplicates') }}
),

usable as (
    select
        order_id,
        contact_id,
        ordered_at,
        status,
        currency,
        store_currency,
        exchange_rate,
        amount_net,
        amount_gross,
        discount_code
    from checked
)

select * from usable
