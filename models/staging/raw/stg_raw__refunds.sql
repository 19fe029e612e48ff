-- The usable refunds of the raw contract: parsed, deduplicated; the rest is in data_quality_issues.
with

checked as (
    select * from {{ ref('base_raw__refunds') }}
),

usable as (
    select
        refund_id,
        order_id,
        contact_id,
        refunded_at,
        amount_net
    from checked
    where dq_failure is null
)

select * from usable
