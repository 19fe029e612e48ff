-- Per contact with a valid order on or before the as-of date: average order value and favourite
-- category. Average order value = mean net amount of the valid orders (all history; refunds do not
-- change it). Favourite category = the product category with the highest net spend
-- (quantity * unit_price_net) on the lines of valid orders, all history; ties go to the category
-- first in alphabetical order. Lines whose product or category is unknown are left out.
-- The lines carry their order's contact, time, status and amount (stg_raw__order_items), so the
-- valid-order rule is applied to them directly instead of joining 18M lines to 10M orders again.
{%- set valid_order_as_of -%}
cast(ordered_at as date) <= {{ as_of_date() }} and {{ is_valid_order() }}
{%- endset %}

with

orders as (
    select * from {{ ref('int_orders_unioned') }}
),

order_items as (
    -- The usable rows (macros/data_quality.sql)
    {{ usable_rows('stg_raw__order_items') }}
),

products as (
    -- The usable rows (macros/data_quality.sql)
    {{ usable_rows('stg_raw__products') }}
),

valid_orders as (
    select
        order_id,
        contact_id,
        amount_net
    from orders
    where {{ valid_order_as_of }}
),

lines_with_orders as (
    select
        contact_id,
        product_id,
        quantity,
        unit_price_net,
        ordered_at,
        order_status as status,
        order_amount_net as amount_net
    from order_items
),

valid_order_items as (
    select
        contact_id,
        product_id,
        quantity,
        unit_price_net
    from lines_with_orders
    where {{ valid_order_as_of }}
),

order_values as (
    select
        contact_id,
        -- the mean as a double (DuckDB divides a decimal by a count so), rounded to 4 decimals
        cast({{ round_double('cast(sum(amount_net) as double) / count(*)', 4) }} as decimal(18, 4))
            as average_order_value
    from valid_orders
    group by contact_id
),

category_spend as (
    select
        valid_order_items.contact_id,
        products.category,
        sum(valid_order_items.quantity * valid_order_items.unit_price_net) as spend
    from valid_order_items
    inner join products
        on valid_order_items.product_id = products.product_id
    where products.category is not null
    group by valid_order_items.contact_id, products.category
),

favourite_categories as (
    select
        contact_id,
        category as favourite_category,
        spend as favourite_category_spend
    from category_spend
    qualify row_number() over (
        partition by contact_id order by spend desc nulls last, category asc
    ) = 1
),

final as (
    select
        order_values.contact_id,
        order_values.average_order_value,
        favourite_categories.favourite_category,
        cast(favourite_categories.favourite_category_spend as decimal(18, 4)) as favourite_category_spend
    from order_values
    left join favourite_categories
        on order_values.contact_id = favourite_categories.contact_id
)

select * from final
