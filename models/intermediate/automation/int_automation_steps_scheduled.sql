-- The steps of the automation entries (int_automation_steps_matched) due in the window (due at or before
-- automation_as_of, and less than automation_lateness_hours before it), what the rules that do not
-- depend on what was issued say about it (SPEC section 7), first match:
-- exited (the entry's trigger no longer holds: an order, or a cart for a prospect, at or before
-- automation_as_of), consent (email needs is_email_reachable, sms needs sms_consent; a push step
-- goes by email to a contact with no known device or app user - a web event whose channel is one of
-- automation_app_channels - and says so), priority (the contact is in a scenario of higher priority:
-- one of its entries has not exited and still has a step due in the window or later).
-- The daily cap and what was already issued are applied in automation_issued.
{%- set lateness = hours_interval(int_var('automation_lateness_hours')) %}

with

matched as (
    select * from {{ ref('int_automation_steps_matched') }}
),

contacts as (
    select * from {{ ref('int_contacts_filtered_to_as_of') }}
),

engagement as (
    select * from {{ ref('customer_engagement') }}
),

web_events as (
    -- The usable rows (macros/data_quality.sql)
    {{ usable_rows('stg_raw__web_events') }}
),

app_users as (
    select distinct web_events.contact_id
    from web_events
    where
        web_events.contact_id is not null
        and web_events.occurred_at <= {{ automation_as_of() }}
        and web_events.channel in ({{ automation_app_channels() }})
),

-- an entry is current while it has not exited and a step of it is due in the window or later
entry_spans as (
    select
        contact_id,
        scenario,
        trigger_id,
        priority,
        exited_at,
        max(due_at) as last_due_at
    from matched
    group by contact_id, scenario, trigger_id, priority, exited_at
),

current_entries as (
    select
        contact_id,
        scenario,
        trigger_id,
        priority
    from entry_spans
    where
        exited_at is null
        and last_due_at > {{ automation_as_of() }} - {{ lateness }}
),

due as (
    select *
    from matched
    where
        due_at <= {{ automation_as_of() }}
        and due_at > {{ automation_as_of() }} - {{ lateness }}
),

with_channel as (
    select
        due.*,
        case
            when due.planned_channel = 'push' and app_users.contact_id is null then 'email'
            else due.planned_channel
        end as channel,
        case
            when due.planned_channel = 'push' and app_users.contact_id is null
                then 'push: no known device or app user, sent by email'
        end as channel_note,
        coalesce(engagement.is_email_reachable, false) as is_email_reachable,
        coalesce(contacts.sms_consent, false) as has_sms_consent,
        (
            select min(current_entries.priority)
            from current_entries
            where
                current_entries.contact_id = due.contact_id
                and current_entries.priority < due.priority
        ) as higher_priority,
        (
            select
                min_by(
                    current_entries.scenario || ' ' || current_entries.trigger_id,
                    current_entries.priority
                )
            from current_entries
            where
                current_entries.contact_id = due.contact_id
                and current_entries.priority < due.priority
        ) as higher_priority_entry
    from due
    left join app_users
        on due.contact_id = app_users.contact_id
    left join engagement
        on due.contact_id = engagement.contact_id
    left join contacts
        on due.contact_id = contacts.contact_id
),

judged as (
    select
        *,
        case
            when exited_at is not null then 'exited_' || exit_reason
            when channel = 'email' and not is_email_reachable then 'consent_email'
            when channel = 'sms' and not has_sms_consent then 'consent_sms'
            when higher_priority is not null then 'priority'
        end as held_rule,
        case
            when exited_at is not null
                then
                    'left the scenario: ' || exit_reason || ' at '
                    || {{ format_timestamp_seconds('exited_at') }}
            when channel = 'email' and not is_email_reachable
                then 'email needs is_email_reachable (no email or consent, unsubscribed or hard-bounced)'
            when channel = 'sms' and not has_sms_consent then 'sms needs sms_consent'
            when higher_priority is not null
                then 'in a scenario of higher priority: ' || higher_priority_entry
        end as held_reason
    from with_channel
),

final as (
    select
        contact_id,
        scenario,
        cast(step as integer) as step,
        branch,
        cast(priority as integer) as priority,
        trigger_id,
        trigger_at,
        due_at,
        planned_channel,
        channel,
        channel_note,
        template_key,
        cast(discount_pct as decimal(5, 2)) as discount_pct,
        case
            when discount_pct is not null and valid_hours is not null
                then due_at + {{ hours_interval('cast(valid_hours as bigint)') }}
        end as valid_until,
        held_rule,
        held_reason,
        {{ automation_as_of() }} as automation_as_of
    from judged
)

select * from final
