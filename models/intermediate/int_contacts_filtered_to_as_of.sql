-- The contacts that exist as of the date, with their order metrics. A contact exists when it was
-- created on or before the as-of date (or has no creation date), or has an order by then.
with

contacts as (
    select * from {{ ref('int_contacts_unioned') }}
),

order_metrics as (
    select * from {{ ref('int_orders_aggregated_to_contacts') }}
),

orders_any_status as (
    select distinct contact_id
    from {{ ref('int_orders_unioned') }}
    where cast(ordered_at as date) <= {{ as_of_date() }}
),

existing as (
    select
        contacts.contact_id,
        contacts.email,
        contacts.first_name,
        contacts.last_name,
        contacts.created_at,
        -- Only what happened on or before the as-of date exists.
        case
            when cast(contacts.subscribed_at as date) <= {{ as_of_date() }} then contacts.subscribed_at
        end as subscribed_at,
        case
            when cast(contacts.unsubscribed_at as date) <= {{ as_of_date() }} then contacts.unsubscribed_at
        end as unsubscribed_at,
        contacts.email_consent,
        contacts.sms_consent,
        contacts.birth_date,
        contacts.gender,
        contacts.city,
        contacts.region,
        contacts.country_code,
        contacts.country_name,
        contacts.postal_code,
        contacts.latitude,
        contacts.longitude,
        contacts.acquisition_source
    from contacts
    left join orders_any_status
        on contacts.contact_id = orders_any_status.contact_id
    where
        contacts.created_at is null
        or cast(contacts.created_at as date) <= {{ as_of_date() }}
        or orders_any_status.contact_id is not null
),

final as (
    select
        existing.*,
        {{ as_of_date() }} as as_of_date,
        coalesce(order_metrics.orders_count, 0) as orders_count,
        order_metrics.first_order_at,
        order_metrics.last_order_at,
        order_metrics.days_since_last_order,
        coalesce(order_metrics.rfm_frequency, 0) as rfm_frequency,
        order_metrics.rfm_first_order_at,
        order_metrics.rfm_last_order_at,
        order_metrics.rfm_recency_days,
        coalesce(order_metrics.rfm_monetary, 0) as rfm_monetary,
        coalesce(order_metrics.orders_count, 0) > 0 as is_customer
    from existing
    left join order_metrics
        on existing.contact_id = order_metrics.contact_id
)

select * from final
