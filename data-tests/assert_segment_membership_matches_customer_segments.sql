-- segment_membership holds exactly the labels of customer_segments, in one read of each:
-- every contact has one rfm, lifecycle, engagement and score_band row, one focus, persona,
-- funnel_stage and within_radius row when that label is set and none when it is null, each row's
-- segment is the contact's label, no row is of another family, and no row belongs to a contact that
-- is not in customer_segments. So (contact_id, segment_family) is unique as well.
-- In Dagster this is a check on segment_membership (it reads two models, so it says which).
{{ config(meta={'dagster': {'ref': {'name': 'segment_membership'}}}) }}

with

segments as (
    select
        contact_id,
        rfm_segment,
        lifecycle_stage,
        focus_segment,
        engagement_level,
        score_band,
        persona,
        funnel_stage,
        case
            when is_within_store_radius then 'within_radius'
            when not is_within_store_radius then 'outside_radius'
        end as within_radius_segment
    from {{ ref('customer_segments') }}
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
        count(*) filter (where segment_family = 'rfm') as rfm_rows,
        count(*) filter (where segment_family = 'lifecycle') as lifecycle_rows,
        count(*) filter (where segment_family = 'focus') as focus_rows,
        count(*) filter (where segment_family = 'engagement') as engagement_rows,
        count(*) filter (where segment_family = 'score_band') as score_band_rows,
        count(*) filter (where segment_family = 'persona') as persona_rows,
        count(*) filter (where segment_family = 'funnel_stage') as funnel_stage_rows,
        count(*) filter (where segment_family = 'within_radius') as within_radius_rows,
        any_value(segment) filter (where segment_family = 'rfm') as rfm_segment,
        any_value(segment) filter (where segment_family = 'lifecycle') as lifecycle_segment,
        any_value(segment) filter (where segment_family = 'focus') as focus_segment,
        any_value(segment) filter (where segment_family = 'engagement') as engagement_segment,
        any_value(segment) filter (where segment_family = 'score_band') as score_band_segment,
        any_value(segment) filter (where segment_family = 'persona') as persona_segment,
        any_value(segment) filter (where segment_family = 'funnel_stage') as funnel_stage_segment,
        any_value(segment) filter (where segment_family = 'within_radius') as within_radius_segment
    from membership
    group by contact_id
),

compared as (
    select
        coalesce(segments.contact_id, per_contact.contact_id) as contact_id,
        segments.contact_id is null as is_unknown_contact,
        coalesce(per_contact.membership_rows, 0) as membership_rows,
        coalesce(per_contact.rfm_rows, 0) as rfm_rows,
        coalesce(per_contact.lifecycle_rows, 0) as lifecycle_rows,
        coalesce(per_contact.focus_rows, 0) as focus_rows,
        coalesce(per_contact.engagement_rows, 0) as engagement_rows,
        coalesce(per_contact.score_band_rows, 0) as score_band_rows,
        coalesce(per_contact.persona_rows, 0) as persona_rows,
        coalesce(per_contact.funnel_stage_rows, 0) as funnel_stage_rows,
        coalesce(per_contact.within_radius_rows, 0) as within_radius_rows,
        case when segments.focus_segment is null then 0 else 1 end as focus_expected_rows,
        case when segments.persona is null then 0 else 1 end as persona_expected_rows,
        case when segments.funnel_stage is null then 0 else 1 end as funnel_stage_expected_rows,
        case when segments.within_radius_segment is null then 0 else 1 end as within_radius_expected_rows,
        (
            per_contact.rfm_segment is distinct from segments.rfm_segment
            or per_contact.lifecycle_segment is distinct from segments.lifecycle_stage
            or per_contact.focus_segment is distinct from segments.focus_segment
            or per_contact.engagement_segment is distinct from segments.engagement_level
            or per_contact.score_band_segment is distinct from segments.score_band
            or per_contact.persona_segment is distinct from segments.persona
            or per_contact.funnel_stage_segment is distinct from segments.funnel_stage
            or per_contact.within_radius_segment is distinct from segments.within_radius_segment
        ) as is_label_mismatch
    from segments
    full outer join per_contact
        on segments.contact_id = per_contact.contact_id
)

select * from compared
where
    is_unknown_contact
    or is_label_mismatch
    or membership_rows != (
        rfm_rows + lifecycle_rows + focus_rows + engagement_rows
        + score_band_rows + persona_rows + funnel_stage_rows + within_radius_rows
    )
    or rfm_rows != 1
    or lifecycle_rows != 1
    or engagement_rows != 1
    or score_band_rows != 1
    or focus_rows != focus_expected_rows
    or persona_rows != persona_expected_rows
    or funnel_stage_rows != funnel_stage_expected_rows
    or within_radius_rows != within_radius_expected_rows
