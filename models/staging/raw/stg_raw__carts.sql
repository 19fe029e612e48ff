-- The usable carts of the raw contract: parsed, deduplicated; the rest is in data_quality_issues.
with

checked as (
    {{ dq_usable_rows('base_raw__carts', 'base_raw__carts_duplicates') }}
),

usable as (
    select
        cart_id,
        contact_id,
        created_at,
        updated_at,
        value_net,
        order_id
    from checked
)

select * from usable
