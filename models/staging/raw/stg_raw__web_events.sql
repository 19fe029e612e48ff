-- The usable web_events of the raw contract: parsed, deduplicated; the rest is in data_quality_issues.
-- A view: at scale this entity is tens of millions of rows, read once by the models that aggregate it.
{{ config(materialized='view') }}

with

checked as (
    {{ dq_usable_rows('base_raw__web_events', 'base_raw__web_events_duplicates') }}
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
)

select * from usable
