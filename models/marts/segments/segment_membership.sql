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
    -- the inner join keeps the families whose label is set (segment_keys has no null segment);
    -- rfm, lifecycle, engagement and score_band always are (a test holds every contact to one row each)
    select
        unnested.contact_id,
        unnested.as_of_date,
        segment_keys.segment_family,
        segment_keys.segment,
        segment_keys.segment_key,
        unnested.email,
        unnested.first_name,
        unnested.last_name,
        coalesce(unnested.email_consent, false) as email_consent,
        coalesce(unnested.sms_consent, false) as sms_consent,
        unnested.unsubscribed_at is not null as is_unsubscribed,
        unnested.email is not null and unnested.engagement_level != 'unreachable' as is_email_reachable
    from unnested
    inner join segment_keys
        on
            struct_extract(unnested.membership, 'segment_family') = segment_keys.segment_family
            and struct_extract(unnested.membership, 'segment') = segment_keys.segment
)

select * from final
