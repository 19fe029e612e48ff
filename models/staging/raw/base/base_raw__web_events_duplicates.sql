-- The usable web_events rows that another row with the same key replaces (see dq_duplicates).
{{ config(materialized='table') }}

{{ dq_duplicates(
    'web_events',
    ['event_id'],
    'occurred_at desc nulls last',
) }}
