-- The usable products rows that another row with the same key replaces (see dq_duplicates).
{{ config(materialized='table') }}

{{ dq_duplicates(
    'products',
    ['product_id'],
    'product_name desc nulls last',
) }}
