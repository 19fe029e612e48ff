-- One row per contact: email engagement level (SPEC section 4), exactly one per contact, first
-- match: unreachable (no email address, no email consent, unsubscribed or hard-bounced as of the
-- date), not_emailed (no send in var engagement_window_days), super_active (open rate at least
-- var super_active_open_rate over at least var super_active_min_sends sends), moderate (at least
-- one open or click in the window), dormant (sends but no open or click).
with

contacts as (
    select * from {{ ref('int_contacts_filtered_to_as_of') }}
),

email_activity as (
    select * from {{ ref('int_email_events_aggregated_to_contacts') }}
),

joined as (
    select
        contacts.contact_id,
        contacts.as_of_date,
        contacts.email is not null as has_email,
        coalesce(contacts.email_consent, false) as has_email_consent,
        (
            contacts.unsubscribed_at is not null
            or coalesce(email_activity.has_unsubscribe_event, false)
        ) as is_unsubscribed,
        coalesce(email_activity.is_hard_bounced, false) as is_hard_bounced,
        coalesce(email_activity.sends_count, 0) as sends_count,
        coalesce(email_activity.opened_sends_count, 0) as opened_sends_count,
        coalesce(email_activity.opens_count, 0) as opens_count,
        coalesce(email_activity.clicks_count, 0) as clicks_count,
        email_activity.last_opened_at
    from contacts
    left join email_activity
        on contacts.contact_id = email_activity.contact_id
),

rated as (
    select
        *,
        (has_email and has_email_consent and not is_unsubscribed and not is_hard_bounced)
            as is_email_reachable,
        case
            when sends_count > 0 then cast(opened_sends_count as double) / sends_count
        end as open_rate
    from joined
),

levelled as (
    select
        contact_id,
        as_of_date,
        case
            when not is_email_reachable then 'unreachable'
            when sends_count = 0 then 'not_emailed'
            when
                sends_count >= {{ int_var('super_active_min_sends') }}
                and opened_sends_count >= {{ number_var('super_active_open_rate') }} * sends_count
                then 'super_active'
            when opened_sends_count > 0 or opens_count > 0 or clicks_count > 0 then 'moderate'
            else 'dormant'
        end as engagement_level,
        is_email_reachable,
        has_email,
        has_email_consent,
        is_unsubscribed,
        is_hard_bounced,
        sends_count,
        opened_sends_count,
        opens_count,
        clicks_count,
        {{ round_double('open_rate', 4) }} as open_rate,
        last_opened_at,
        cast({{ days_since('last_opened_at') }} as integer) as days_since_last_open
    from rated
)

select * from levelled
