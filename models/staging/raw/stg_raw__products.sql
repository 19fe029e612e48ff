-- The usable products of the raw contract: parsed, deduplicated; the rest is in data_quality_issues.
with

checked as (
    select * from {{ ref('base_raw__products') }}
),

usable as (
    select
        product_id,
        product_name,
        category,
        price_net
    from checked
    where dq_failure is null
)

select * from usable
