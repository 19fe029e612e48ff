-- The usable contacts of the raw contract: parsed, deduplicated; the rest is in data_quality_issues.
with

checked as (
    select * from {{ ref('base_raw__contacts') }}
),

usable as (
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
        acquisition_source
    from checked
    where dq_failure is null
)

select * from usable
