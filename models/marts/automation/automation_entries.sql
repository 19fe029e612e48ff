-- Who entered which automation scenario, on what trigger and when, and whether and why they left it,
-- as of automation_as_of (SPEC section 7; the rules are in int_automation_entries_collected).
with

entries as (
    select * from {{ ref('int_automation_entries_collected') }}
),

final as (
    select
        contact_id,
        scenario,
        trigger_type,
        trigger_id,
        trigger_at,
        entered_at,
        exited_at,
        exit_reason,
        exited_at is null as is_in_scenario,
        orders_count_at_trigger,
        days_since_order_at_trigger,
        last_order_net_at_trigger,
        is_regular_at_trigger,
        automation_as_of
    from entries
)

select * from final
