-- Per contact: site behaviour, in one scan of the web events filtered to the longest window.
-- Within var behaviour_window_days: sessions (distinct session_id), distinct products viewed
-- (product_view events), time on site (sum of duration_seconds). Within var funnel_window_days:
-- which funnel steps were reached (any event = visited; product_view; add_to_cart, or a cart
-- created then; checkout_started). Anonymous events (no contact_id) are not anyone's.
with

web_events as (
    select * from {{ ref('stg_raw__web_events') }}
),

carts as (
    select * from {{ ref('stg_raw__carts') }}
),

recent_events as (
    select
        contact_id,
        session_id,
        event_type,
        product_id,
        duration_seconds,
        {{ days_since('occurred_at') }} as days_since_event
    from web_events
    where
        contact_id is not null
        and {{ within_days_of_as_of(
            'occurred_at',
            'greatest(' ~ int_var('behaviour_window_days') ~ ', ' ~ int_var('funnel_window_days') ~ ')'
        ) }}
),

events_per_contact as (
    select
        contact_id,
        count(distinct session_id) filter (
            where days_since_event <= {{ int_var('behaviour_window_days') }}
        ) as sessions_count,
        count(distinct product_id) filter (
            where event_type = 'product_view' and days_since_event <= {{ int_var('behaviour_window_days') }}
        ) as products_viewed_count,
        sum(duration_seconds) filter (
            where days_since_event <= {{ int_var('behaviour_window_days') }}
        ) as time_on_site_seconds,
        bool_or(days_since_event <= {{ int_var('funnel_window_days') }}) as has_visited,
        bool_or(
            event_type = 'product_view' and days_since_event <= {{ int_var('funnel_window_days') }}
        ) as has_viewed_product,
        bool_or(
            event_type = 'add_to_cart' and days_since_event <= {{ int_var('funnel_window_days') }}
        ) as has_added_to_cart,
        bool_or(
            event_type = 'checkout_started' and days_since_event <= {{ int_var('funnel_window_days') }}
        ) as has_started_checkout
    from recent_events
    group by contact_id
),

carts_per_contact as (
    select distinct contact_id
    from carts
    where
        contact_id is not null
        and {{ within_days_of_as_of('created_at', int_var('funnel_window_days')) }}
),

final as (
    select
        coalesce(events_per_contact.contact_id, carts_per_contact.contact_id) as contact_id,
        cast(coalesce(events_per_contact.sessions_count, 0) as integer) as sessions_count,
        cast(coalesce(events_per_contact.products_viewed_count, 0) as integer) as products_viewed_count,
        cast(coalesce(events_per_contact.time_on_site_seconds, 0) as bigint) as time_on_site_seconds,
        coalesce(events_per_contact.has_visited, false) as has_visited,
        coalesce(events_per_contact.has_viewed_product, false) as has_viewed_product,
        coalesce(events_per_contact.has_added_to_cart, false)
        or carts_per_contact.contact_id is not null as has_added_to_cart,
        coalesce(events_per_contact.has_started_checkout, false) as has_started_checkout
    from events_per_contact
    full outer join carts_per_contact
        on events_per_contact.contact_id = carts_per_contact.contact_id
)

select * from final
