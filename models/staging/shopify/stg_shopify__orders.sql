-- The usable Shopify orders: status from cancellation and payment, net amount in the store
-- currency; test, deleted, guest and other unusable orders are in data_quality_issues.
with

orders as (
    select * from {{ ref('base_shopify__orders') }}
    where dq_failure is null
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
        amount_net
    from orders
)

select * from usable
