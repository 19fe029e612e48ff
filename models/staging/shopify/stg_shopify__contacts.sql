-- The usable Shopify customers as contacts; the rest is in data_quality_issues.
with

customers as (
    select * from {{ ref('base_shopify__customers') }}
    where dq_failure is null
),

contacts as (
    select
        contact_id,
        email,
        first_name,
        last_name,
        created_at,
        subscribed_at,
        email_consent,
        unsubscribed_at
    from customers
)

select * from contacts
