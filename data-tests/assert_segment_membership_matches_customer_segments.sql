-- segment_membership holds exactly the labels of customer_segments, in one read of each:
-- every contact has one rfm, lifecycle, engagement, score_band and microsegment row, one focus,
-- persona, funnel_stage, within_radius, churn_risk, value_tier, purchase_intent and cluster row
-- when that label is set and none when it is null, each row's segment is the contact's label, no
-- row is of another family, and no row belongs to a contact that is not in customer_segments. So (contact_id,
-- segment_family) is unique as well, except in the families custom and static, where a contact may
-- be in several segments: its custom rows are exactly the custom segments whose condition (var
-- custom_segments) is true on its row of customer_segments, each evaluated here on its own, and its
-- static rows exactly the static segments it was frozen in (stg_static_segments__members). Each
-- failing row says which check it fails.
-- In Dagster this is a check on segment_membership (it reads two models, so it says which).
{{ config(meta={'dagster': {'ref': {'name': 'segment_membership'}}}) }}
{%- set custom = custom_segments() %}

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
        end as within_radius_segment,
        churn_risk,
        value_tier,
        purchase_intent,
        cluster_name,
        microsegment
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
        count(*) filter (where segment_family = 'churn_risk') as churn_risk_rows,
        count(*) filter (where segment_family = 'value_tier') as value_tier_rows,
        count(*) filter (where segment_family = 'purchase_intent') as purchase_intent_rows,
        count(*) filter (where segment_family = 'cluster') as cluster_rows,
        count(*) filter (where segment_family = 'microsegment') as microsegment_rows,
        count(*) filter (where segment_family = 'custom') as custom_rows,
        count(*) filter (where segment_family = 'static') as static_rows,
        any_value(segment) filter (where segment_family = 'rfm') as rfm_segment,
        any_value(segment) filter (where segment_family = 'lifecycle') as lifecycle_segment,
        any_value(segment) filter (where segment_family = 'focus') as focus_segment,
        any_value(segment) filter (where segment_family = 'engagement') as engagement_segment,
        any_value(segment) filter (where segment_family = 'score_band') as score_band_segment,
        any_value(segment) filter (where segment_family = 'persona') as persona_segment,
        any_value(segment) filter (where segment_family = 'funnel_stage') as funnel_stage_segment,
        any_value(segment) filter (where segment_family = 'within_radius') as within_radius_segment,
        any_value(segment) filter (where segment_family = 'churn_risk') as churn_risk_segment,
        any_value(segment) filter (where segment_family = 'value_tier') as value_tier_segment,
        any_value(segment) filter (where segment_family = 'purchase_intent') as purchase_intent_segment,
        any_value(segment) filter (where segment_family = 'cluster') as cluster_segment,
        any_value(segment) filter (where segment_family = 'microsegment') as microsegment_segment
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
        coalesce(per_contact.churn_risk_rows, 0) as churn_risk_rows,
        coalesce(per_contact.value_tier_rows, 0) as value_tier_rows,
        coalesce(per_contact.purchase_intent_rows, 0) as purchase_intent_rows,
        coalesce(per_contact.cluster_rows, 0) as cluster_rows,
        coalesce(per_contact.microsegment_rows, 0) as microsegment_rows,
        coalesce(per_contact.custom_rows, 0) as custom_rows,
        coalesce(per_contact.static_rows, 0) as static_rows,
        case when segments.focus_segment is null then 0 else 1 end as focus_expected_rows,
        case when segments.persona is null then 0 else 1 end as persona_expected_rows,
        case when segments.funnel_stage is null then 0 else 1 end as funnel_stage_expected_rows,
        case when segments.within_radius_segment is null then 0 else 1 end as within_radius_expected_rows,
        case when segments.churn_risk is null then 0 else 1 end as churn_risk_expected_rows,
        case when segments.value_tier is null then 0 else 1 end as value_tier_expected_rows,
        case when segments.purchase_intent is null then 0 else 1 end as purchase_intent_expected_rows,
        case when segments.cluster_name is null then 0 else 1 end as cluster_expected_rows,
        (
            per_contact.rfm_segment is distinct from segments.rfm_segment
            or per_contact.lifecycle_segment is distinct from segments.lifecycle_stage
            or per_contact.focus_segment is distinct from segments.focus_segment
            or per_contact.engagement_segment is distinct from segments.engagement_level
            or per_contact.score_band_segment is distinct from segments.score_band
            or per_contact.persona_segment is distinct from segments.persona
            or per_contact.funnel_stage_segment is distinct from segments.funnel_stage
            or per_contact.within_radius_segment is distinct from segments.within_radius_segment
            or per_contact.churn_risk_segment is distinct from segments.churn_risk
            or per_contact.value_tier_segment is distinct from segments.value_tier
            or per_contact.purchase_intent_segment is distinct from segments.purchase_intent
            or per_contact.cluster_segment is distinct from segments.cluster_name
            or per_contact.microsegment_segment is distinct from segments.microsegment
        ) as is_label_mismatch
    from segments
    full outer join per_contact
        on segments.contact_id = per_contact.contact_id
),

expected_custom as (
    -- each custom segment's condition, evaluated on customer_segments on its own
    {%- for segment in custom %}
    select
        contact_id,
        '{{ segment.name }}' as segment
    from {{ ref('customer_segments') }}
    where ({{ segment.condition }})

    union all
    {% endfor %}
    select
        cast(null as string) as contact_id,
        cast(null as string) as segment
    where false
),

expected_static as (
    select
        members.contact_id,
        members.static_segment as segment
    from {{ ref('stg_static_segments__members') }} as members
    inner join segments
        on members.contact_id = segments.contact_id
),

expected_multi_memberships as (
    select
        contact_id,
        'custom' as segment_family,
        segment
    from expected_custom
    union all
    select
        contact_id,
        'static' as segment_family,
        segment
    from expected_static
),

actual_multi_memberships as (
    select
        contact_id,
        segment_family,
        segment,
        count(*) as membership_rows
    from membership
    where segment_family in ('custom', 'static')
    group by all
),

multi_membership_differences as (
    -- (contact, segment) pairs of custom / static present on one side only (or twice)
    select
        coalesce(expected.contact_id, actual.contact_id) as contact_id,
        coalesce(expected.segment_family, actual.segment_family) || ' segment '
        || coalesce(expected.segment, actual.segment)
        || case
            when actual.contact_id is null then ': missing from segment_membership'
            when expected.contact_id is null then ': not expected in segment_membership'
            else ': more than one row'
        end as problem
    from expected_multi_memberships as expected
    full outer join actual_multi_memberships as actual
        on
            expected.contact_id = actual.contact_id
            and expected.segment_family = actual.segment_family
            and expected.segment = actual.segment
    where expected.contact_id is null or actual.contact_id is null or actual.membership_rows > 1
),

single_membership_differences as (
    select
        contact_id,
        'family rows or labels differ from customer_segments' as problem
    from compared
    where
        is_unknown_contact
        or is_label_mismatch
        or membership_rows != (
            rfm_rows + lifecycle_rows + focus_rows + engagement_rows
            + score_band_rows + persona_rows + funnel_stage_rows + within_radius_rows
            + churn_risk_rows + value_tier_rows + purchase_intent_rows + cluster_rows + microsegment_rows
            + custom_rows + static_rows
        )
        or rfm_rows != 1
        or lifecycle_rows != 1
        or engagement_rows != 1
        or score_band_rows != 1
        or microsegment_rows != 1
        or focus_rows != focus_expected_rows
        or persona_rows != persona_expected_rows
        or funnel_stage_rows != funnel_stage_expected_rows
        or within_radius_rows != within_radius_expected_rows
        or churn_risk_rows != churn_risk_expected_rows
        or value_tier_rows != value_tier_expected_rows
        or purchase_intent_rows != purchase_intent_expected_rows
        or cluster_rows != cluster_expected_rows
),

final as (
    select * from single_membership_differences
    union all
    select * from multi_membership_differences
)

select * from final
