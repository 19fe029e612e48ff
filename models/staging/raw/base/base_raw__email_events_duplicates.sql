-- The usable email_events rows that another row with the same key replaces (see dq_duplicates).
{{ config(materialized='table') }}

{{ dq_duplicates(
    'email_events',
    ['event_id'],
    'occurred_at desc nulls last',
) }}
