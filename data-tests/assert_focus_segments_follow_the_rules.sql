-- Recomputes each focus segment's condition from the lifecycle and RFM marts: a contact in a
-- segment must meet its rule, and a contact meeting a rule must be in that segment.
-- In Dagster this is a blocking check on customer_focus_segments (it reads two models, so it says which).
{{ config(meta={'dagster': {'ref': {'name': 'customer_focus_segments'}}}) }}

with

focus as (
    select * from {{ ref('customer_focus_segments') }}
),

segments as (
    select * from {{ ref('customer_segments') }}
),

expected as (
    select
        segments.contact_id,
        focus.focus_segment,
        case
            when
                segments.orders_count = 1
                and segments.days_since_last_order <= {{ int_var('first_buyer_days') }}
                then 'first_time_buyer_recent'
            when
                segments.orders_count = 2
                and segments.days_since_last_order <= {{ int_var('two_time_buyer_days') }}
                then 'two_time_buyer_recent'
            when
                segments.orders_count = 1
                and segments.days_since_last_order > {{ int_var('one_time_lapse_days') }}
                then 'one_time_buyer_lapsing'
            when
                segments.orders_count >= 2
                and segments.days_since_last_order > {{ int_var('repeat_lapse_days') }}
                then 'repeat_buyer_lapsing'
            when
                segments.orders_count = 0
                and {{ days_between('cast(segments.subscribed_at as date)', 'segments.as_of_date') }}
                <= {{ int_var('new_subscriber_days') }}
                then 'new_subscriber_non_buyer'
        end as expected_segment
    from segments
    inner join focus
        on segments.contact_id = focus.contact_id
)

select * from expected
where focus_segment is distinct from expected_segment
