-- Every contact of customer_segments has exactly one engagement and one score_band membership row,
-- and its optional families (persona, funnel_stage, within_radius) agree with customer_segments.
-- In Dagster this is a check on segment_membership (it reads two nodes, so it says which).
{{ config(meta={'dagster': {'ref': {'name': 'segment_membership'}}}) }}

with

segments as (
    select * from {{ ref('customer_segments') }}
),

membership as (
    select * from {{ ref('segment_membership') }}
),

counted as (
    select
        segments.contact_id,
        count(*) filter (where membership.segment_family = 'engagement') as engagement_rows,
        count(*) filter (where membership.segment_family = 'score_band') as score_band_rows,
        count(*) filter (where membership.segment_family = 'persona') as persona_rows,
        count(*) filter (where membership.segment_family = 'funnel_stage') as funnel_stage_rows,
        count(*) filter (where membership.segment_family = 'within_radius') as within_radius_rows,
        any_value(segments.persona) as persona,
        any_value(segments.funnel_stage) as funnel_stage,
        any_value(segments.is_within_store_radius) as is_within_store_radius
    from segments
    left join membership
        on segments.contact_id = membership.contact_id
    group by segments.contact_id
)

select * from counted
where
    engagement_rows <> 1
    or score_band_rows <> 1
    or persona_rows <> (case when persona is null then 0 else 1 end)
    or funnel_stage_rows <> (case when funnel_stage is null then 0 else 1 end)
    or within_radius_rows <> (case when is_within_store_radius is null then 0 else 1 end)
