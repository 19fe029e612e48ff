-- One row per (contact, segment family, segment) as of the date: what activation pushes.
-- Each contact's row of customer_segments is unnested into one row per family whose label is set,
-- carrying the contact's columns along (no join back to customer_segments). The segment_key slug is
-- computed once per distinct (family, segment), not once per row.
{%- set families = [
    ('rfm', 'rfm_segment'),
    ('lifecycle', 'lifecycle_stage'),
    ('focus', 'focus_segment'),
    ('engagement', 'engagement_level'),
    ('score_band', 'score_band'),
    ('persona', 'persona'),
    ('funnel_stage', 'funnel_stage'),
    ('within_radius', "case when is_within_store_radius then 'within_radius'"
        ~ " when not is_within_store_radius then 'outside_radius' end"),
] %}

with

segments as (
    select * from {{ ref('customer_segments') }}
),

unnested as (
    select
        contact_id,
        as_of_date,
        email,
        first_name,
        last_name,
        email_consent,
        sms_consent,
        unsubscribed_at,
        engagement_level,
        unnest([
            {%- for family, label in families %}
            { 'segment_family': '{{ family }}', 'segment': {{ label }} }{{ ',' if not loop.last }}
            {%- endfor %}
        ]) as membership
    from segments
),

memberships as (
    select
        contact_id,
        as_of_date,
        email,
        first_name,
        last_name,
        email_consent,
        sms_consent,
        unsubscribed_at,
        engagement_level,
        struct_extract(membership, 'segment_family') as segment_family,
        struct_extract(membership, 'segment') as segment
    from unnested
    -- rfm, lifecycle, engagement and score_band are always set (a test holds every contact to one row each)
    where struct_extract(membership, 'segment') is not null
),

segment_labels as (
    -- the distinct labels of each family (a few dozen rows)
    {%- for family, label in families %}
    select distinct
        '{{ family }}' as segment_family,
        {{ label }} as segment
    from {{ ref('customer_segments') }}
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}
),

segment_keys as (
    select
        segment_family,
        segment,
        segment_family || ':' || trim(
            regexp_replace(lower(replace(segment, '''', '')), '[^a-z0-9]+', '_', 'g'), '_'
        ) as segment_key
    from segment_labels
    where segment is not null
),

final as (
    select
        memberships.contact_id,
        memberships.as_of_date,
        memberships.segment_family,
        memberships.segment,
        segment_keys.segment_key,
        memberships.email,
        memberships.first_name,
        memberships.last_name,
        coalesce(memberships.email_consent, false) as email_consent,
        coalesce(memberships.sms_consent, false) as sms_consent,
        memberships.unsubscribed_at is not null as is_unsubscribed,
        memberships.email is not null and memberships.engagement_level != 'unreachable' as is_email_reachable
    from memberships
    inner join segment_keys
        on
            memberships.segment_family = segment_keys.segment_family
            and memberships.segment = segment_keys.segment
)

select * from final
