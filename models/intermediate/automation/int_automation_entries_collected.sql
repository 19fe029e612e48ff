-- Who entered which automation scenario, on what trigger and when (SPEC section 7), as of the
-- timestamp automation_as_of (macros/automation.sql; default the end of the as-of date), with what
-- the branches of seed automation_steps test, measured at the trigger. Only what happened at or
-- before that timestamp exists.
-- cart: int_automation_carts_qualified.
-- inactive: each valid order that stayed the contact's last for as long as the scenario's first step
--   waits (90 days): entered when that step fell due; exits at the next valid order.
-- prospect: each contact created (registered) at or before it with no valid order and no cart by
--   then; entered at creation; exits at the first cart or valid order after it.
-- Regular at the trigger = lifecycle active or loyal then: at least 2 valid orders up to the
-- trigger, the last within active_days of the trigger's date.
with

contacts as (
    select * from {{ ref('int_contacts_filtered_to_as_of') }}
),

carts as (
    -- The usable rows (macros/data_quality.sql)
    {{ usable_rows('stg_raw__carts') }}
),

steps as (
    select * from {{ ref('automation_steps') }}
),

valid_orders as (
    select * from {{ ref('int_automation_orders_sequenced') }}
),

cart_entries as (
    select * from {{ ref('int_automation_carts_qualified') }}
),

known_carts as (
    select
        carts.contact_id,
        carts.created_at
    from carts
    inner join contacts
        on carts.contact_id = contacts.contact_id
    where carts.created_at <= {{ automation_as_of() }}
),

-- an inactive customer enters when the scenario's first step falls due with no order since
inactive_first_step as (
    select min(coalesce(delay_days, 0) * 24 + coalesce(delay_hours, 0)) as first_delay_hours
    from steps
    where scenario = 'inactive'
),

inactive_candidates as (
    select
        valid_orders.*,
        case
            when inactive_first_step.first_delay_hours % 24 = 0
                then cast(
                    {{ date_plus_days(
                        'cast(valid_orders.ordered_at as date)',
                        'cast(' ~ integer_divide('inactive_first_step.first_delay_hours', 24) ~ ' as integer)'
                    ) }} as timestamp
                )
            else valid_orders.ordered_at + {{ hours_interval('inactive_first_step.first_delay_hours') }}
        end as entered_at
    from valid_orders
    cross join inactive_first_step
),

inactive_entries as (
    select
        contact_id,
        'inactive' as scenario,
        'last_order' as trigger_type,
        order_id as trigger_id,
        ordered_at as trigger_at,
        entered_at,
        order_number as orders_count_at_trigger,
        0 as days_since_order_at_trigger,
        amount_net as last_order_net_at_trigger,
        next_order_at as exited_at,
        case when next_order_at is not null then 'ordered' end as exit_reason
    from inactive_candidates
    where
        entered_at <= {{ automation_as_of() }}
        and (next_order_at is null or next_order_at > entered_at)
),

registered as (
    select
        contacts.contact_id,
        contacts.created_at
    from contacts
    where contacts.created_at <= {{ automation_as_of() }}
),

registered_with_activity as (
    select
        registered.contact_id,
        registered.created_at,
        (
            select min(valid_orders.ordered_at)
            from valid_orders
            where valid_orders.contact_id = registered.contact_id
        ) as first_order_at,
        (
            select min(known_carts.created_at)
            from known_carts
            where known_carts.contact_id = registered.contact_id
        ) as first_cart_at
    from registered
),

prospect_entries as (
    select
        contact_id,
        'prospect' as scenario,
        'registered' as trigger_type,
        contact_id as trigger_id,
        created_at as trigger_at,
        created_at as entered_at,
        0 as orders_count_at_trigger,
        cast(null as integer) as days_since_order_at_trigger,
        cast(null as decimal(18, 4)) as last_order_net_at_trigger,
        least(first_order_at, first_cart_at) as exited_at,
        case
            when first_order_at is not null and (first_cart_at is null or first_order_at <= first_cart_at)
                then 'ordered'
            when first_cart_at is not null then 'cart'
        end as exit_reason
    from registered_with_activity
    where
        (first_order_at is null or first_order_at > created_at)
        and (first_cart_at is null or first_cart_at > created_at)
),

entries as (
    select * from cart_entries
    union all
    select * from inactive_entries
    union all
    select * from prospect_entries
),

final as (
    select
        entries.contact_id,
        entries.scenario,
        entries.trigger_type,
        entries.trigger_id,
        entries.trigger_at,
        entries.entered_at,
        entries.orders_count_at_trigger,
        entries.days_since_order_at_trigger,
        cast(entries.last_order_net_at_trigger as decimal(18, 4)) as last_order_net_at_trigger,
        (
            entries.orders_count_at_trigger >= 2
            and entries.days_since_order_at_trigger <= {{ int_var('active_days') }}
        ) as is_regular_at_trigger,
        entries.exited_at,
        entries.exit_reason,
        {{ automation_as_of() }} as automation_as_of
    from entries
)

select * from final
