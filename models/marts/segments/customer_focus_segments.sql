with

contacts as (
    select * from {{ ref('int_contacts_filtered_to_as_of') }}
),

segmented as (
    select
        contact_id,
        as_of_date,
        case
            when
                orders_count = 0
                and {{ days_since('subscribed_at') }} <= {{ int_var('new_subscriber_days') }}
                then 'new_subscriber_non_buyer'
            when
                orders_count = 1
                and days_since_last_order <= {{ int_var('first_buyer_days') }}
                then 'first_time_buyer_recent'
            when
                orders_count = 2
                and days_since_last_order <= {{ int_var('two_time_buyer_days') }}
                then 'two_time_buyer_recent'
            when
                orders_count = 1
                and days_since_last_order > {{ int_var('one_time_lapse_days') }}
                then 'one_time_buyer_lapsing'
            when
                orders_count >= 2
                and days_since_last_order > {{ int_var('repeat_lapse_days') }}
                then 'repeat_buyer_lapsing'
        end as focus_segment
    from contacts
)

select * from segmented
