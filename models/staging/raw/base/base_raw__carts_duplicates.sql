-- The usable carts rows that another row with the same key replaces (see dq_duplicates).
{{ config(materialized='table') }}

{{ dq_duplicates(
    'carts',
    ['cart_id'],
    'coalesce(updated_at, created_at) desc nulls last',
) }}
