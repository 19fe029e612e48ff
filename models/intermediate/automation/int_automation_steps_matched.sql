-- Every step of every automation entry: the rows of seed automation_steps of the entry's scenario
-- and trigger whose branch conditions the entry meets (an empty condition is "any"; measured at the
-- trigger: regular customer, ordered / not ordered within N days, orders count, last order's net
-- amount, persona from customer_profile), and when each falls due (delay_hours after the trigger,
-- or 00:00 UTC of the day delay_days after its date). Due or not: int_automation_steps_scheduled
-- keeps those due in the window.
with

entries as (
    select * from {{ ref('int_automation_entries_collected') }}
),

steps as (
    select * from {{ ref('automation_steps') }}
),

profiles as (
    select * from {{ ref('customer_profile') }}
),

matched as (
    select
        entries.contact_id,
        entries.scenario,
        steps.step,
        steps.branch,
        steps.priority,
        entries.trigger_id,
        entries.trigger_at,
        entries.entered_at,
        entries.exited_at,
        entries.exit_reason,
        {{ automation_step_due_at('entries.trigger_at', 'steps.delay_hours', 'steps.delay_days') }} as due_at,
        steps.channel as planned_channel,
        steps.template_key,
        steps.discount_pct,
        steps.valid_hours
    from entries
    inner join steps
        on
            entries.scenario = steps.scenario
            and entries.trigger_type = steps.trigger
    left join profiles
        on entries.contact_id = profiles.contact_id
    where
        (steps.condition_regular is null or steps.condition_regular = entries.is_regular_at_trigger)
        and (
            steps.condition_ordered_within_days is null
            or entries.days_since_order_at_trigger <= steps.condition_ordered_within_days
        )
        and (
            steps.condition_not_ordered_within_days is null
            or entries.days_since_order_at_trigger is null
            or entries.days_since_order_at_trigger > steps.condition_not_ordered_within_days
        )
        and (
            steps.condition_min_orders is null
            or entries.orders_count_at_trigger >= steps.condition_min_orders
        )
        and (
            steps.condition_max_orders is null
            or entries.orders_count_at_trigger <= steps.condition_max_orders
        )
        and (
            steps.condition_last_order_net_above is null
            or entries.last_order_net_at_trigger > steps.condition_last_order_net_above
        )
        and (
            steps.condition_last_order_net_at_most is null
            or entries.last_order_net_at_trigger is null
            or entries.last_order_net_at_trigger <= steps.condition_last_order_net_at_most
        )
        and (steps.condition_persona is null or steps.condition_persona = profiles.persona)
)

select * from matched
