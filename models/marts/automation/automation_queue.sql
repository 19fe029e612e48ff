-- The automation steps due as of automation_as_of, for the tools that send them: the rows the
-- ledger automation_issued holds for this moment (one per contact, scenario, step and trigger).
-- A rerun or backfill of the same moment shows the same rows.
with

issued as (
    select * from {{ ref('automation_issued') }}
),

final as (
    select
        contact_id,
        scenario,
        step,
        trigger_id,
        due_at,
        channel,
        template_key,
        discount_pct,
        valid_until,
        planned_channel,
        channel_note,
        issued_at
    from issued
    where issued_at = {{ automation_as_of() }}
)

select * from final
