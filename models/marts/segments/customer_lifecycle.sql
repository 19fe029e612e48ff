{{ check_lifecycle_vars() }}
with

contacts as (
    select * from {{ ref('int_contacts_filtered_to_as_of') }}
),

staged as (
    select
        contact_id,
        as_of_date,
        case
            when orders_count = 0 then 'prospect'
            when days_since_last_order > {{ int_var('lapsed_days') }} then 'lapsed'
            when days_since_last_order > {{ int_var('active_days') }} then 'at_risk'
            when orders_count >= {{ int_var('loyal_min_orders') }} then 'loyal'
            when orders_count >= 2 then 'active'
            else 'new'
        end as lifecycle_stage,
        orders_count,
        days_since_last_order
    from contacts
)

select * from staged
