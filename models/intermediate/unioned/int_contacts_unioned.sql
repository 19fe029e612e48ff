-- Contacts of the active source system (var source_system), in one shape. The other sources'
-- staging models are empty, so the union is the selected source.
with

raw_contacts as (
    -- The usable rows (macros/data_quality.sql)
    {{ usable_rows('stg_raw__contacts') }}
),

online_retail_contacts as (
    select * from {{ ref('stg_online_retail__contacts') }}
),

shopify_contacts as (
    select * from {{ ref('stg_shopify__contacts') }}
),

unioned as (
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
        cast(null as string) as country_name,
        postal_code,
        latitude,
        longitude,
        acquisition_source
    from raw_contacts

    union all

    select
        contact_id,
        cast(null as string) as email,
        cast(null as string) as first_name,
        cast(null as string) as last_name,
        created_at,
        cast(null as timestamp) as subscribed_at,
        cast(null as boolean) as email_consent,
        cast(null as boolean) as sms_consent,
        cast(null as timestamp) as unsubscribed_at,
        cast(null as date) as birth_date,
        cast(null as string) as gender,
        cast(null as string) as city,
        cast(null as string) as region,
        cast(null as string) as country_code,
        country as country_name,
        cast(null as string) as postal_code,
        cast(null as double) as latitude,
        cast(null as double) as longitude,
        'online_retail' as acquisition_source
    from online_retail_contacts

    union all

    select
        contact_id,
        email,
        first_name,
        last_name,
        created_at,
        subscribed_at,
        email_consent,
        cast(null as boolean) as sms_consent,
        unsubscribed_at,
        cast(null as date) as birth_date,
        cast(null as string) as gender,
        cast(null as string) as city,
        cast(null as string) as region,
        cast(null as string) as country_code,
        cast(null as string) as country_name,
        cast(null as string) as postal_code,
        cast(null as double) as latitude,
        cast(null as double) as longitude,
        'shopify' as acquisition_source
    from shopify_contacts
)

select * from unioned
