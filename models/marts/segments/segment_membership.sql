-- One row per (contact, segment family, segment) as of the date: what activation pushes.
with

segments as (
    select * from {{ ref('customer_segments') }}
),

memberships as (
    select
        contact_id,
        'rfm' as segment_family,
        rfm_segment as segment
    from segments

    union all

    select
        contact_id,
        'lifecycle' as segment_family,
        lifecycle_stage as segment
    from segments

    union all

    select
        contact_id,
        'focus' as segment_family,
        focus_segment as segment
    from segments
    where focus_segment is not null

    union all

    select
        contact_id,
        'engagement' as segment_family,
        engagement_level as segment
    from segments

    union all

    select
        contact_id,
        'score_band' as segment_family,
        score_band as segment
    from segments

    union all

    select
        contact_id,
        'persona' as segment_family,
        persona as segment
    from segments
    where persona is not null

    union all

    select
        contact_id,
        'funnel_stage' as segment_family,
        funnel_stage as segment
    from segments
    where funnel_stage is not null

    union all

    select
        contact_id,
        'within_radius' as segment_family,
        case when is_within_store_radius then 'within_radius' else 'outside_radius' end as segment
    from segments
    where is_within_store_radius is not null
),

final as (
    select
        memberships.contact_id,
        segments.as_of_date,
        memberships.segment_family,
        memberships.segment,
        -- A stable slug for tags and list names: 'Can''t Lose Them' -> 'cant_lose_them'.
        memberships.segment_family || ':' || trim(
            regexp_replace(lower(replace(memberships.segment, '''', '')), '[^a-z0-9]+', '_', 'g'), '_'
        ) as segment_key,
        segments.email,
        segments.first_name,
        segments.last_name,
        coalesce(segments.email_consent, false) as email_consent,
        coalesce(segments.sms_consent, false) as sms_consent,
        segments.unsubscribed_at is not null as is_unsubscribed,
        -- The same rule as the engagement level (SPEC 4): an email, email consent, not unsubscribed
        -- (date or unsubscribe/complaint event) and not hard-bounced.
        segments.email is not null and segments.engagement_level != 'unreachable' as is_email_reachable
    from memberships
    inner join segments
        on memberships.contact_id = segments.contact_id
)

select * from final
