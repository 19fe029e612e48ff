-- Every raw web_events row with its data-quality failure: the ingested row (row checks) plus the
-- checks against other entities, run at read time. Read by stg_raw__web_events (usable rows) and
-- data_quality_issues (the others).
{%- set raw_types = ingested_raw_types('web_events') %}
with

ingested as (
    select * from {{ ref('ingest_raw__web_events') }}
),

contacts as (
    select contact_id from {{ ref('stg_raw__contacts') }}
),

checked as (
    select
        ingested.*,
        coalesce(
            ingested.dq_row_failure,
            {{ dq_first_failure([
                ("ingested.contact_id is not null and contacts.contact_id is null", 'unknown_contact', 'contact_id'),
            ]) }}
        ) as dq_failure
    from ingested
    left join contacts
        on ingested.contact_id = contacts.contact_id
),

final as (
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
        channel,
        event_id as record_key,
        key_hash,
        {{ dq_ingested_columns('web_events', raw_types) }}
    from checked
)

select * from final
