-- One row per contact that exists as of the date: its microsegment (SPEC section 10,
-- Microsegments), the combination persona x lifecycle stage x RFM group (rfm_segment), written
-- '<persona> / <lifecycle_stage> / <rfm_segment>' ('no_persona' for a contact without a persona).
-- A combination held by fewer than var microsegment_min_size contacts of the date is `other`.
with

contacts as (
    select * from {{ ref('int_contacts_filtered_to_as_of') }}
),

profile as (
    select * from {{ ref('customer_profile') }}
),

lifecycle as (
    select * from {{ ref('customer_lifecycle') }}
),

rfm as (
    select * from {{ ref('customer_rfm') }}
),

combined as (
    select
        contacts.contact_id,
        contacts.as_of_date,
        profile.persona,
        lifecycle.lifecycle_stage,
        rfm.rfm_segment,
        coalesce(profile.persona, 'no_persona')
        || ' / ' || lifecycle.lifecycle_stage
        || ' / ' || rfm.rfm_segment as combination
    from contacts
    inner join profile
        on contacts.contact_id = profile.contact_id
    inner join lifecycle
        on contacts.contact_id = lifecycle.contact_id
    inner join rfm
        on contacts.contact_id = rfm.contact_id
),

sized as (
    select
        *,
        count(*) over (partition by combination) as combination_size
    from combined
),

final as (
    select
        contact_id,
        as_of_date,
        cast(persona as string) as persona,
        cast(lifecycle_stage as string) as lifecycle_stage,
        cast(rfm_segment as string) as rfm_segment,
        cast(combination as string) as combination,
        cast(combination_size as integer) as combination_size,
        cast(
            case
                when combination_size >= {{ int_var('microsegment_min_size') }} then combination
                else 'other'
            end as string
        ) as microsegment
    from sized
)

select * from final
