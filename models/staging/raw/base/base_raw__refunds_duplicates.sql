-- The usable refunds rows that another row with the same key replaces (see dq_duplicates).
{{ config(materialized='table') }}

{{ dq_duplicates(
    'refunds',
    ['refund_id'],
    'refunded_at desc nulls last',
) }}
