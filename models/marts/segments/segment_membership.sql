-- One row per (contact, segment family, segment) as of the date: what activation pushes.
-- Each contact's row of customer_segments is unnested into one row per family whose label is set,
-- carrying the contact's columns along (no join back to customer_segments). The segment_key slug is
-- computed once per distinct (family, segment), not once per row.
-- Custom segments (var custom_segments, macros/custom_segments.sql) are unnested the same way, one
-- entry of family custom per segment, so a contact has one custom row per condition it meets.
-- Static segments (frozen by segment-warehouse-freeze) add one row of family static per frozen member
-- that is a contact of customer_segments on this date, with its consent of this date.
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
    ('churn_risk', 'churn_risk'),
    ('value_tier', 'value_tier'),
    ('purchase_intent', 'purchase_intent'),
    ('cluster', 'cluster_name'),
    ('microsegment', 'microsegment'),
] %}
{%- set custom = custom_segments() %}
{%- do check_custom_segment_columns(custom) %}
{%- for segment in custom %}
{%- do families.append(('custom', custom_segment_label(segment))) %}
{%- endfor %}
{%- set memberships = [] %}
{%- for family, label in families %}
{%- do memberships.append(struct_of({'segment_family': "'" ~ family ~ "'", 'segment': label})) %}
{%- endfor %}

with

segments as (
    select * from {{ ref('customer_segments') }}
),

static_members as (
    select * from {{ ref('stg_static_segments__members') }}
),

family_memberships as (
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
        {{ unnest_values(memberships) }} as membership
    from segments
),

static_memberships as (
    select
        segments.contact_id,
        segments.as_of_date,
        segments.email,
        segments.first_name,
        segments.last_name,
        segments.email_consent,
        segments.sms_consent,
        segments.unsubscribed_at,
        segments.engagement_level,
        {{ struct_of({
            'segment_family': "'static'",
            'segment': 'static_members.static_segment',
        }) }} as membership
    from static_members
    inner join segments
        on static_members.contact_id = segments.contact_id
),

unnested as (
    select * from family_memberships
    union all
    select * from static_memberships
),

segment_labels as (
    -- the distinct labels of each family (a few dozen rows); a custom segment's label is its name
    {%- for family, label in families if family != 'custom' %}
    select distinct
        '{{ family }}' as segment_family,
        {{ label }} as segment
    from {{ ref('customer_segments') }}

    union all
    {% endfor %}
    {%- for segment in custom %}
    select
        'custom' as segment_family,
        '{{ segment.name }}' as segment

    union all
    {% endfor %}
    select distinct
        'static' as segment_family,
        static_members.static_segment as segment
    from static_members
),

segment_keys as (
    select
        segment_family,
        segment,
        segment_family || ':' || {{ trim_characters(
            regexp_replace_all("lower(replace(segment, '''', ''))", '[^a-z0-9]+', '_'), '_'
        ) }} as segment_key
    from segment_labels
    where segment is not null
),

final as (
    -- the inner join keeps the families whose label is set (segment_keys has no null segment);
    -- rfm, lifecycle, engagement, score_band and microsegment always are (a test holds every contact
    -- to one row each); a custom segment's label is set when its condition is true
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
            {{ struct_field('unnested.membership', 'segment_family') }} = segment_keys.segment_family
            and {{ struct_field('unnested.membership', 'segment') }} = segment_keys.segment
)

select * from final
