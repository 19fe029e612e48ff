-- The usable email_events of the raw contract: parsed, deduplicated; the rest is in data_quality_issues.
with

checked as (
    select * from {{ ref('base_raw__email_events') }}
),

usable as (
    select
        event_id,
        contact_id,
        campaign_id,
        event_type,
        occurred_at
    from checked
    where dq_failure is null
)

select * from usable
