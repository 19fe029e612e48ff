-- The usable contacts of the raw contract: parsed, deduplicated; the rest is in data_quality_issues.
with

checked as (
    {{ dq_usable_rows('base_raw__contacts', 'base_raw__contacts_duplicates') }}
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
)

select * from usable
