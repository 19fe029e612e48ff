-- The usable web_events of the raw contract: parsed, deduplicated; the rest is in data_quality_issues.
with

checked as (
    select * from {{ ref('base_raw__web_events') }}
),

usable as (
    select
        event_id,
        contact_id,
        anonymous_id,
        session_id,
        event_type,
        occurred_at,
        product_id,
        page_url,
        duration_seconds,
        channel
    from checked
    where dq_failure is null
)

select * from usable
