-- The usable carts of the raw contract: parsed, deduplicated; the rest is in data_quality_issues.
with

checked as (
    select * from {{ ref('base_raw__carts') }}
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
    where dq_failure is null
)

select * from usable
