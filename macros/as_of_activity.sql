{#- Email, web and nurturing activity as of a date: the queries of the intermediate models that read
    the events, as macros taking the as-of date as a SQL expression (see macros/as_of_state.sql). -#}

{% macro email_events_aggregated_to_contacts(as_of) -%}
    {#- The query of int_email_events_aggregated_to_contacts for the as-of date `as_of` (a SQL date expression).
        Per contact: email events on or before the as-of date, in two hash aggregations.
        1. All history: what makes an address unreachable (an unsubscribe or complaint event; a bounce
           with nothing delivered, opened or clicked after it = a hard bounce) and the last open.
        2. The engagement window (var engagement_window_days): sends, opened sends, opens, clicks.
           A send is a campaign sent to the contact (a `sent` event; one without a campaign_id is a send
           of its own); it is opened when the contact opened or clicked that campaign in the window
           (a click counts as an open), so opened_sends <= sends.
        The nurturing points of opens and clicks are in int_interactions_scored_to_contacts.
        Both aggregations read the events, so the CTEs are `not materialized`: each aggregation scans
        the columns it needs, instead of DuckDB first copying every email event (32M at 10M orders). -#}
with

email_events as {{ not_materialized() }} (
    -- The usable rows (macros/data_quality.sql)
    {{ usable_rows('stg_raw__email_events') }}
),

events_as_of as {{ not_materialized() }} (
    select
        contact_id,
        campaign_id,
        event_id,
        event_type,
        occurred_at
    from email_events
    where occurred_at < {{ as_of }} + {{ days_interval(1) }}
),

history_per_contact as (
    select
        contact_id,
        bool_or(event_type in ('unsubscribe', 'complaint')) as has_unsubscribe_event,
        max(occurred_at) filter (where event_type = 'bounce') as last_bounce_at,
        max(occurred_at) filter (where event_type in ('delivered', 'open', 'click')) as last_delivered_at,
        max(occurred_at) filter (where event_type in ('open', 'click')) as last_opened_at
    from events_as_of
    group by contact_id
),

window_events as (
    select
        contact_id,
        event_type,
        case
            when campaign_id is not null then campaign_id
            -- a send without a campaign is a send of its own; an open without one matches none
            when event_type = 'sent' then '#' || event_id
        end as send_key
    from events_as_of
    where
        {{ within_days_of_as_of('occurred_at', int_var('engagement_window_days'), as_of=as_of) }}
        and event_type in ('sent', 'open', 'click')
),

per_send as (
    select
        contact_id,
        send_key,
        bool_or(event_type = 'sent') as is_sent,
        bool_or(event_type in ('open', 'click')) as is_opened,
        count(*) filter (where event_type = 'open') as opens_count,
        count(*) filter (where event_type = 'click') as clicks_count
    from window_events
    group by contact_id, send_key
),

window_per_contact as (
    select
        contact_id,
        count(*) filter (where is_sent and send_key is not null) as sends_count,
        count(*) filter (where is_sent and is_opened and send_key is not null) as opened_sends_count,
        sum(opens_count) as opens_count,
        sum(clicks_count) as clicks_count
    from per_send
    group by contact_id
),

final as (
    select
        history_per_contact.contact_id,
        history_per_contact.has_unsubscribe_event,
        coalesce(
            history_per_contact.last_bounce_at is not null
            and (
                history_per_contact.last_delivered_at is null
                or history_per_contact.last_delivered_at < history_per_contact.last_bounce_at
            ),
            false
        ) as is_hard_bounced,
        history_per_contact.last_bounce_at,
        history_per_contact.last_opened_at,
        cast(coalesce(window_per_contact.sends_count, 0) as integer) as sends_count,
        cast(coalesce(window_per_contact.opened_sends_count, 0) as integer) as opened_sends_count,
        cast(coalesce(window_per_contact.opens_count, 0) as integer) as opens_count,
        cast(coalesce(window_per_contact.clicks_count, 0) as integer) as clicks_count
    from history_per_contact
    left join window_per_contact
        on history_per_contact.contact_id = window_per_contact.contact_id
)

select * from final
{%- endmacro %}

{% macro interactions_scored_to_contacts(as_of) -%}
    {#- The query of int_interactions_scored_to_contacts for the as-of date `as_of` (a SQL date expression).
        Per contact: nurturing points (SPEC section 5) of the interactions within var score_window_days.
        Each interaction earns the points of its type (seed nurturing_score_weights: web event types
        as they are, email opens and clicks as email_open / email_click), halved every
        var score_half_life_days of age: points * 0.5 ^ (days_since / half_life), days_since in whole
        UTC days (an interaction on the as-of date keeps all its points), to 9 decimals. Types the seed does not list
        earn nothing. The points are summed per type here; the cap and the bands are in customer_scores. -#}
with

web_events as (
    -- The usable rows (macros/data_quality.sql)
    {{ usable_rows('stg_raw__web_events') }}
),

email_events as (
    -- The usable rows (macros/data_quality.sql)
    {{ usable_rows('stg_raw__email_events') }}
),

weights as (
    select * from {{ ref('nurturing_score_weights') }}
),

interactions as (
    select
        contact_id,
        event_type as interaction_type,
        occurred_at
    from web_events
    where
        contact_id is not null
        and {{ within_days_of_as_of('occurred_at', int_var('score_window_days'), as_of=as_of) }}

    union all

    select
        contact_id,
        'email_' || event_type as interaction_type,
        occurred_at
    from email_events
    where
        event_type in ('open', 'click')
        and {{ within_days_of_as_of('occurred_at', int_var('score_window_days'), as_of=as_of) }}
),

aged as (
    select
        contact_id,
        interaction_type,
        {{ days_since('occurred_at', as_of) }} as age_days
    from interactions
),

weighted as (
    select
        aged.contact_id,
        case
            when aged.interaction_type in (
                {%- for interaction_type in nurturing_interaction_types() %}
                '{{ interaction_type }}'{% if not loop.last %},{% endif %}
                {%- endfor %}
            ) then aged.interaction_type
            else 'other'
        end as interaction_type,
        -- to 9 decimals, summed exactly as decimals: the sums are the same on every engine and in
        -- any order (the score and the points in customer_scores are rounded to 2 decimals)
        cast(
            weights.points * pow(0.5, aged.age_days / cast({{ positive_int_var('score_half_life_days') }} as double))
            as decimal(18, 9)
        ) as decayed_points
    from aged
    inner join weights
        on aged.interaction_type = weights.interaction_type
),

per_contact as (
    select
        contact_id,
        count(*) as scored_interactions_count,
        cast(sum(decayed_points) as double) as total_points,
        {%- for interaction_type in nurturing_interaction_types() %}
        cast(coalesce(sum(decayed_points) filter (where interaction_type = '{{ interaction_type }}'), 0) as double)
            as {{ interaction_type }}_points,
        {%- endfor %}
        cast(coalesce(sum(decayed_points) filter (where interaction_type = 'other'), 0) as double) as other_points
    from weighted
    group by contact_id
)

select * from per_contact
{%- endmacro %}

{% macro web_events_aggregated_to_contacts(as_of) -%}
    {#- The query of int_web_events_aggregated_to_contacts for the as-of date `as_of` (a SQL date expression).
        Per contact: site behaviour, in one scan of the web events filtered to the longest window.
        Within var behaviour_window_days: sessions (distinct session_id), distinct products viewed
        (product_view events), time on site (sum of duration_seconds). Within var funnel_window_days:
        which funnel steps were reached (any event = visited; product_view; add_to_cart, or a cart
        created then; checkout_started). Anonymous events (no contact_id) are not anyone's. -#}
with

web_events as (
    -- The usable rows (macros/data_quality.sql)
    {{ usable_rows('stg_raw__web_events') }}
),

carts as (
    -- The usable rows (macros/data_quality.sql)
    {{ usable_rows('stg_raw__carts') }}
),

recent_events as (
    select
        contact_id,
        session_id,
        event_type,
        product_id,
        duration_seconds,
        {{ days_since('occurred_at', as_of) }} as days_since_event
    from web_events
    where
        contact_id is not null
        and {{ within_days_of_as_of(
            'occurred_at',
            'greatest(' ~ int_var('behaviour_window_days') ~ ', ' ~ int_var('funnel_window_days') ~ ')',
            as_of=as_of
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
        and {{ within_days_of_as_of('created_at', int_var('funnel_window_days'), as_of=as_of) }}
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
{%- endmacro %}
