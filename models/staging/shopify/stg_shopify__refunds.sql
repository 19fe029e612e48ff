-- The usable Shopify refunds: the goods refunded (order_line_refund subtotals), net of tax in the
-- store currency, at the refund's time, for the refunded order's contact.
with

refunds as (
    select * from {{ ref('base_shopify__refunds') }}
    where dq_failure is null
),

usable as (
    select
        refund_id,
        order_id,
        contact_id,
        refunded_at,
        amount_net
    from refunds
)

select * from usable
