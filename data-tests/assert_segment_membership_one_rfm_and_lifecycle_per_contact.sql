-- Every contact of customer_segments has exactly one rfm and one lifecycle membership row.
-- In Dagster this is a blocking check on segment_membership (it reads two models, so it says which).
{{ config(meta={'dagster': {'ref': {'name': 'segment_membership'}}}) }}

with

segments as (
    select contact_id from {{ ref('customer_segments') }}
),

membership as (
    select * from {{ ref('segment_membership') }}
),

counted as (
    select
        segments.contact_id,
        count(*) filter (where membership.segment_family = 'rfm') as rfm_rows,
        count(*) filter (where membership.segment_family = 'lifecycle') as lifecycle_rows
    from segments
    left join membership
        on segments.contact_id = membership.contact_id
    group by segments.contact_id
)

select * from counted
where rfm_rows <> 1 or lifecycle_rows <> 1
