-- The usable carts of the raw contract: parsed, deduplicated; the rest is in data_quality_issues.
-- A view: its one reader (int_web_events_aggregated_to_contacts) wants only the funnel window's
-- carts, and that filter reaches the ingest table through the view's checks.
{{ config(materialized='view') }}

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
