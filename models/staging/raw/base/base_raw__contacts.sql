-- Every raw contacts row with its data-quality failure: the ingested row (row checks) plus the
-- checks against other entities, run at read time. Read by stg_raw__contacts (usable rows) and
-- data_quality_issues (the others).
{%- set raw_types = ingested_raw_types('contacts') %}
with

ingested as (
    select * from {{ ref('ingest_raw__contacts') }}
),

checked as (
    select
        ingested.*,
        ingested.dq_row_failure as dq_failure
    from ingested
),

final as (
    select
        contact_id,
        email,
        first_name,
        last_name,
        created_at,
        subscribed_at,
        email_consent,
        sms_consent,
        unsubscribed_at,
        birth_date,
        gender,
        city,
        region,
        country_code,
        postal_code,
        latitude,
        longitude,
        acquisition_source,
        contact_id as record_key,
        key_hash,
        {{ dq_ingested_columns('contacts', raw_types) }}
    from checked
)

select * from final
