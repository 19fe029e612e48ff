-- The usable order_items rows that another row with the same key replaces (see dq_duplicates).
{{ config(materialized='table') }}

{{ dq_duplicates(
    'order_items',
    [
        'order_id',
        'line_number',
    ],
    'quantity desc nulls last',
) }}
