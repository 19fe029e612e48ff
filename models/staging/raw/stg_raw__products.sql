-- The usable products of the raw contract: parsed, deduplicated; the rest is in data_quality_issues.
with

checked as (
    {{ dq_usable_rows('base_raw__products', 'base_raw__products_duplicates') }}
),

usable as (
    select
        product_id,
        product_name,
        category,
        price_net
    from checked
)

select * from usable
