-- One wide row per contact: every label and the metrics behind them, for BI.
with

contacts as (
    select * from {{ ref('int_contacts_filtered_to_as_of') }}
),

rfm as (
    select * from {{ ref('customer_rfm') }}
),

lifecycle as (
    select * from {{ ref('customer_lifecycle') }}
),

focus as (
    select * from {{ ref('customer_focus_segments') }}
),

final as (
    select
        contacts.contact_id,
        contacts.as_of_date,
        contacts.email,
        contacts.first_name,
        contacts.last_name,
        contacts.created_at,
        contacts.subscribed_at,
        contacts.unsubscribed_at,
        contacts.email_consent,
        contacts.sms_consent,
        contacts.country_code,
        contacts.country_name,
        contacts.region,
        contacts.city,
        contacts.is_customer,
        contacts.orders_count,
        contacts.first_order_at,
        contacts.last_order_at,
        contacts.days_since_last_order,
        rfm.recency_days,
        rfm.frequency,
        rfm.monetary,
        rfm.r_score,
        rfm.f_score,
        rfm.m_score,
        rfm.rfm_cell,
        rfm.rfm_segment,
        lifecycle.lifecycle_stage,
        focus.focus_segment
    from contacts
    inner join rfm
        on contacts.contact_id = rfm.contact_id
    inner join lifecycle
        on contacts.contact_id = lifecycle.contact_id
    inner join focus
        on contacts.contact_id = focus.contact_id
)

select * from final
