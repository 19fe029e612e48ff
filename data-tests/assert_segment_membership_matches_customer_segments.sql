-- segment_membership holds exactly the labels of customer_segments, in one read of each:
-- every contact has one rfm, lifecycle, engagement and score_band row, one focus, persona,
-- funnel_stage and within_radius row when that label is set and none when it is null, each row's
-- segment is the contact's label, no row is of another family, and no row belongs to a contact that
-- is not in customer_segments. So (contact_id, segment_family) is unique as well.
-- In Dagster this is a check on segment_membership (it reads two models, so it says which).
{%- set families = [
    ('rfm', 'segments.rfm_segment', true),
    ('lifecycle', 'segments.lifecycle_stage', true),
    ('focus', 'segments.focus_segment', false),
    ('engagement', 'segments.engagement_level', true),
    ('score_band', 'segments.score_band', true),
    ('persona', 'segments.persona', false),
    ('funnel_stage', 'segments.funnel_stage', false),
    ('within_radius', "case when segments.is_within_store_radius then 'within_radius'"
        ~ " when not segments.is_within_store_radius then 'outside_radius' end", false),
] %}
{{ config(meta={'dagster': {'ref': {'name': 'segment_membership'}}}) }}

with

segments as (
    select * from {{ ref('customer_segments') }}
),

membership as (
    select
        contact_id,
        segment_family,
        segment
    from {{ ref('segment_membership') }}
),

per_contact as (
    select
        contact_id,
        count(*) as membership_rows,
        {%- for family, label, always in families %}
        count(*) filter (where segment_family = '{{ family }}') as {{ family }}_rows,
        any_value(segment) filter (where segment_family = '{{ family }}') as {{ family }}_segment
        {{- ',' if not loop.last }}
        {%- endfor %}
    from membership
    group by contact_id
),

compared as (
    select
        coalesce(segments.contact_id, per_contact.contact_id) as contact_id,
        segments.contact_id is null as is_unknown_contact,
        coalesce(per_contact.membership_rows, 0) as membership_rows,
        {%- for family, label, always in families %}
        coalesce(per_contact.{{ family }}_rows, 0) as {{ family }}_rows,
        {%- if always %}
        1 as {{ family }}_expected_rows,
        {%- else %}
        case when {{ label }} is null then 0 else 1 end as {{ family }}_expected_rows,
        {%- endif %}
        per_contact.{{ family }}_segment is distinct from {{ label }} as is_{{ family }}_mismatch
        {{- ',' if not loop.last }}
        {%- endfor %}
    from segments
    full outer join per_contact
        on segments.contact_id = per_contact.contact_id
)

select * from compared
where
    is_unknown_contact
    or membership_rows <> (
        {%- for family, label, always in families %}
        {{ family }}_rows{{ ' +' if not loop.last }}
        {%- endfor %}
    )
    {%- for family, label, always in families %}
    or {{ family }}_rows <> {{ family }}_expected_rows
    or is_{{ family }}_mismatch
    {%- endfor %}
