-- Every raw email_events row with its data-quality failure: the ingested row (row checks) plus the
-- checks against other entities, run at read time. Read by stg_raw__email_events (usable rows) and
-- data_quality_issues (the others).
{%- set raw_types = ingested_raw_types('email_events') %}
with

ingested as (
    select * from {{ ref('ingest_raw__email_events') }}
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
                ("contacts.contact_id is null", 'unknown_contact', 'contact_id'),
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
        campaign_id,
        event_type,
        occurred_at,
        event_id as record_key,
        key_hash,
        {{ dq_ingested_columns('email_events', raw_types) }}
    from checked
)

select * from final
