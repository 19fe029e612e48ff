-- Orders of the active source system, amounts net and in the store currency.
with

raw_orders as (
    -- The usable rows (macros/data_quality.sql)
    {{ usable_rows('stg_raw__orders') }}
),

online_retail_orders as (
    select * from {{ ref('stg_online_retail__orders') }}
),

shopify_orders as (
    select * from {{ ref('stg_shopify__orders') }}
),

unioned as (
    select
        order_id,
        contact_id,
        ordered_at,
        status,
        amount_net
    from raw_orders

    union all

    select
        order_id,
        contact_id,
        ordered_at,
        status,
        amount_net
    from online_retail_orders

    union all

    select
        order_id,
        contact_id,
        ordered_at,
        status,
        amount_net
    from shopify_orders
)

select * from unioned
