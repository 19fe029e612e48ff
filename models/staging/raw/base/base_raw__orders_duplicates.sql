-- The usable orders rows that another row with the same key replaces (see dq_duplicates).
{{ config(materialized='table') }}

{{ dq_duplicates(
    'orders',
    ['order_id'],
    'ordered_at desc nulls last',
) }}
