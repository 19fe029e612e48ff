-- Refunds of the active source system (Online Retail: cancellation invoices; Shopify: the goods
-- refunded).
with

raw_refunds as (
    -- The usable rows (macros/data_quality.sql)
    {{ usable_rows('stg_raw__refunds') }}
),

online_retail_refunds as (
    select * from {{ ref('stg_online_retail__refunds') }}
),

shopify_refunds as (
    select * from {{ ref('stg_shopify__refunds') }}
),

unioned as (
    select
        refund_id,
        contact_id,
        refunded_at,
        amount_net
    from raw_refunds

    union all

    select
        refund_id,
        contact_id,
        refunded_at,
        amount_net
    from online_retail_refunds

    union all

    select
        refund_id,
        contact_id,
        refunded_at,
        amount_net
    from shopify_refunds
)

select * from unioned
