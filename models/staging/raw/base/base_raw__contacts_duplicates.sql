-- The usable contacts rows that another row with the same key replaces (see dq_duplicates).
{{ config(materialized='table') }}

{{ dq_duplicates(
    'contacts',
    ['contact_id'],
    'created_at desc nulls last',
) }}
