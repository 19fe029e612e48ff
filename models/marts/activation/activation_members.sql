-- What activation may send of each segment_membership row (SPEC 8), the same for every
-- destination: the address as sent (trimmed, lower-cased), its SHA-256 for ad audiences, the
-- email check, and email consent, which belongs to the address. activation/warehouse.py picks a
-- destination's segments, identifier and consent from here, then diffs and delivers.

with membership as (
    select * from {{ ref('segment_membership') }}
),

addressed as (
    select
        membership.*,
        nullif(lower(trim(membership.email)), '') as email_address
    from membership
),

-- An address that any contact holding it may not be sent to (no consent, unsubscribed) is sent
-- for no contact: two contacts sharing an address, one unsubscribed, never get it sent through
-- the other.
withdrawn_addresses as (
    select distinct addressed.email_address
    from addressed
    where
        addressed.email_address is not null
        and not coalesce(addressed.is_email_reachable, false)
),

checked as (
    select
        addressed.contact_id,
        addressed.segment_family,
        addressed.segment,
        addressed.segment_key,
        addressed.email_address as email,
        {{ sha256_hex('addressed.email_address') }} as email_sha256,
        addressed.first_name,
        addressed.last_name,
        -- The email check (docs/operator.md, Activation; macro email_check).
        {{ email_check('addressed.email_address') }} as has_valid_email,
        addressed.email_address is not null
        and coalesce(addressed.is_email_reachable, false)
        and withdrawn_addresses.email_address is null as has_email_consent
    from addressed
    left join withdrawn_addresses
        on addressed.email_address = withdrawn_addresses.email_address
),

final as (
    select
        checked.contact_id,
        checked.segment_family,
        checked.segment,
        checked.segment_key,
        checked.email,
        checked.email_sha256,
        -- identifier contact_id: the contact is the member, its address is sent only if it passes
        case when checked.has_valid_email then checked.email end as valid_email,
        checked.first_name,
        checked.last_name,
        checked.has_valid_email,
        checked.has_email_consent
    from checked
)

select * from final
