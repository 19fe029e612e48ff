{{ config(tags=["automation"]) }}

-- What activation may deliver of each issued automation step (SPEC 7 and 8): one row per
-- automation_issued row, with the contact's address (trimmed, lower-cased) and names, the email
-- check (macro email_check, the same as activation_members) and the consent of each channel as it
-- is now: email consent belongs to the address (an address any contact holding it may not be sent
-- to is sent for no contact), sms consent to the contact. automation_issued checked consent when it
-- issued the step; a contact who withdrew it since gets nothing. activation/automation.py picks a
-- destination's channels and scenarios from here, holds back steps due too long ago, diffs against
-- what the destination acknowledged and delivers (events or lists).

with

issued as (
    select * from {{ ref('automation_issued') }}
),

contacts as (
    select * from {{ ref('int_contacts_filtered_to_as_of') }}
),

engagement as (
    select * from {{ ref('customer_engagement') }}
),

addressed as (
    select
        contacts.contact_id,
        nullif(lower(trim(contacts.email)), '') as email_address,
        contacts.first_name,
        contacts.last_name,
        coalesce(engagement.is_email_reachable, false) as is_email_reachable,
        coalesce(contacts.sms_consent, false) as has_sms_consent
    from contacts
    left join engagement
        on contacts.contact_id = engagement.contact_id
),

withdrawn_addresses as (
    select distinct addressed.email_address
    from addressed
    where
        addressed.email_address is not null
        and not addressed.is_email_reachable
),

checked as (
    select
        addressed.contact_id,
        addressed.email_address as email,
        addressed.first_name,
        addressed.last_name,
        {{ email_check('addressed.email_address') }} as email_ok,
        addressed.email_address is not null
        and addressed.is_email_reachable
        and withdrawn_addresses.email_address is null as has_email_consent,
        addressed.has_sms_consent
    from addressed
    left join withdrawn_addresses
        on addressed.email_address = withdrawn_addresses.email_address
),

final as (
    select
        issued.contact_id,
        issued.scenario,
        issued.step,
        issued.trigger_id,
        issued.channel,
        issued.template_key,
        issued.discount_pct,
        issued.valid_until,
        issued.due_at,
        issued.issued_at,
        checked.email,
        checked.first_name,
        checked.last_name,
        coalesce(checked.email_ok, false) as email_ok,
        coalesce(checked.has_email_consent, false) as has_email_consent,
        coalesce(checked.has_sms_consent, false) as has_sms_consent
    from issued
    left join checked
        on issued.contact_id = checked.contact_id
)

select * from final
