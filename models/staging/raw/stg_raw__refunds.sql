-- The usable refunds of the raw contract: parsed, deduplicated; the rest is in data_quality_issues.
with

checked as (
    {{ dq_usable_rows('base_raw__refunds', 'base_raw__refunds_duplicates') }}
),

usable as (
    select
        refund_id,
        order_id,
        contact_id,
        refunded_at,
        amount_net
    from checked
)

select * from usable
