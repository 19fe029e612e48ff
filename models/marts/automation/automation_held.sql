-- The automation steps due as of automation_as_of that were not issued, with the rule that held
-- each back (SPEC section 7), so a marketer sees why someone got nothing: exited_ordered /
-- exited_cart (the trigger no longer holds), consent_email / consent_sms (the channel's consent is
-- missing), priority (the contact is in a scenario of higher priority), daily_cap (the contact
-- already has automation_max_messages_per_day steps that day), issued_later (a build of a past
-- moment: a later build issued it). Steps issued by an earlier build are neither due nor held.
with

scheduled as (
    select * from {{ ref('int_automation_steps_scheduled') }}
),

issued as (
    select * from {{ ref('automation_issued') }}
),

not_issued_before as (
    select
        scheduled.*,
        issued.issued_at
    from scheduled
    left join issued
        on
            scheduled.contact_id = issued.contact_id
            and scheduled.scenario = issued.scenario
            and scheduled.step = issued.step
            and scheduled.trigger_id = issued.trigger_id
    where issued.issued_at is null or issued.issued_at > scheduled.automation_as_of
),

held as (
    select
        *,
        coalesce(
            held_rule,
            case when issued_at is not null then 'issued_later' else 'daily_cap' end
        ) as rule_name,
        coalesce(
            held_reason,
            case
                when issued_at is not null
                    then 'issued by a later build, at ' || {{ format_timestamp_seconds('issued_at') }}
                else
                    'the contact reached automation_max_messages_per_day ('
                    || {{ int_var('automation_max_messages_per_day') }} || ') that day'
            end
        ) as reason
    from not_issued_before
),

final as (
    select
        contact_id,
        scenario,
        step,
        branch,
        trigger_id,
        due_at,
        channel,
        template_key,
        discount_pct,
        valid_until,
        planned_channel,
        channel_note,
        rule_name as held_rule,
        reason as held_reason,
        automation_as_of
    from held
)

select * from final
