-- One wide row per contact: every label and the metrics behind them, for BI.
with

contacts as (
    select * from {{ ref('int_contacts_filtered_to_as_of') }}
),

rfm as (
    select * from {{ ref('customer_rfm') }}
),

lifecycle as (
    select * from {{ ref('customer_lifecycle') }}
),

focus as (
    select * from {{ ref('customer_focus_segments') }}
),

engagement as (
    select * from {{ ref('customer_engagement') }}
),

scores as (
    select * from {{ ref('customer_scores') }}
),

profile as (
    select * from {{ ref('customer_profile') }}
),

{#- The predictive and cluster marts come from Python models, which run on DuckDB only
    (dbt_project.yml): on another engine their columns are null. -#}
{%- if python_models_enabled() %}

predictions as (
    select * from {{ ref('customer_predictions') }}
),

clusters as (
    select * from {{ ref('customer_clusters') }}
),
{%- endif %}

microsegments as (
    select * from {{ ref('customer_microsegments') }}
),

final as (
    select
        contacts.contact_id,
        contacts.as_of_date,
        contacts.email,
        contacts.first_name,
        contacts.last_name,
        contacts.created_at,
        contacts.subscribed_at,
        contacts.unsubscribed_at,
        contacts.email_consent,
        contacts.sms_consent,
        contacts.country_code,
        contacts.country_name,
        contacts.region,
        contacts.city,
        contacts.is_customer,
        contacts.orders_count,
        contacts.first_order_at,
        contacts.last_order_at,
        contacts.days_since_last_order,
        rfm.recency_days,
        rfm.frequency,
        rfm.monetary,
        rfm.r_score,
        rfm.f_score,
        rfm.m_score,
        rfm.rfm_cell,
        rfm.rfm_segment,
        lifecycle.lifecycle_stage,
        focus.focus_segment,
        engagement.engagement_level,
        engagement.sends_count,
        engagement.opened_sends_count,
        engagement.open_rate,
        engagement.last_opened_at,
        scores.nurturing_score,
        scores.score_band,
        profile.age,
        profile.age_band,
        profile.persona,
        profile.distance_to_store_km,
        profile.is_within_store_radius,
        profile.average_order_value,
        profile.sessions_count,
        profile.products_viewed_count,
        profile.time_on_site_seconds,
        profile.funnel_stage,
        profile.favourite_category,
        {%- if python_models_enabled() %}
        predictions.p_alive,
        predictions.expected_orders_365d,
        predictions.predicted_clv_365d,
        predictions.churn_risk,
        predictions.value_tier,
        predictions.purchase_intent,
        clusters.cluster_name,
        {%- else %}
        cast(null as double) as p_alive,
        cast(null as double) as expected_orders_365d,
        cast(null as double) as predicted_clv_365d,
        cast(null as string) as churn_risk,
        cast(null as string) as value_tier,
        cast(null as string) as purchase_intent,
        cast(null as string) as cluster_name,
        {%- endif %}
        microsegments.microsegment
    from contacts
    inner join rfm
        on contacts.contact_id = rfm.contact_id
    inner join lifecycle
        on contacts.contact_id = lifecycle.contact_id
    inner join focus
        on contacts.contact_id = focus.contact_id
    inner join engagement
        on contacts.contact_id = engagement.contact_id
    inner join scores
        on contacts.contact_id = scores.contact_id
    inner join profile
        on contacts.contact_id = profile.contact_id
    {%- if python_models_enabled() %}
    inner join predictions
        on contacts.contact_id = predictions.contact_id
    {%- endif %}
    inner join microsegments
        on contacts.contact_id = microsegments.contact_id
    {%- if python_models_enabled() %}
    -- a prospect, or any contact on a date with too few customers to cluster, has no cluster
    left join clusters
        on contacts.contact_id = clusters.contact_id
    {%- endif %}
)

select * from final
