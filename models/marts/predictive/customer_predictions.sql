-- One row per contact that exists as of the date: the BG/NBD and Gamma-Gamma predictions of
-- int_customers_predicted and the tiers made from them (SPEC section 10). Prospects (no valid
-- order) have null predictions and the tiers `prospect`; customers have null predictions and
-- tiers when the models were not fitted (too few customers; see predictive_model_fits).
-- purchase_propensity_30d (every contact, prospects too) is int_contacts_scored_propensity's scoring
-- state; null, and purchase_intent null, when the classifier was not fitted.
{{- check_predictive_vars() }}
with

contacts as (
    select * from {{ ref('int_contacts_filtered_to_as_of') }}
),

summaries as (
    select * from {{ ref('int_transactions_summarised_to_customers') }}
),

predictions as (
    select * from {{ ref('int_customers_predicted') }}
),

propensities as (
    select * from {{ ref('int_contacts_scored_propensity') }}
    where feature_state = 'scoring'
),

joined as (
    select
        contacts.contact_id,
        contacts.as_of_date,
        contacts.is_customer,
        summaries.repeat_transactions,
        summaries.t_x_days,
        summaries.t_days,
        predictions.p_alive,
        predictions.expected_orders_30d,
        predictions.expected_orders_90d,
        predictions.expected_orders_365d,
        predictions.expected_order_value,
        predictions.predicted_clv_365d,
        propensities.purchase_propensity as purchase_propensity_30d
    from contacts
    left join summaries
        on contacts.contact_id = summaries.contact_id
    left join predictions
        on contacts.contact_id = predictions.contact_id
    left join propensities
        on contacts.contact_id = propensities.contact_id
),

-- value_tier: s = (rank - 1) / N, rank() over the value descending among the customers that have
-- one (ties share the lowest rank); compared as rank - 1 < cut * N, exactly
valued as (
    select
        contact_id,
        rank() over (order by predicted_clv_365d desc) as value_rank,
        count(*) over () as valued_customers
    from joined
    where predicted_clv_365d is not null
),

-- purchase_intent: the same share of rank over every contact with a propensity (all of them when
-- the classifier was fitted), propensity descending
intent_ranked as (
    select
        contact_id,
        rank() over (order by purchase_propensity_30d desc) as intent_rank,
        count(*) over () as ranked_contacts
    from joined
    where purchase_propensity_30d is not null
),

tiered as (
    select
        joined.*,
        case
            when not joined.is_customer then 'prospect'
            when joined.p_alive >= {{ number_var('churn_risk_low_min_p_alive') }} then 'low'
            when joined.p_alive >= {{ number_var('churn_risk_medium_min_p_alive') }} then 'medium'
            when joined.p_alive is not null then 'high'
        end as churn_risk,
        case
            when not joined.is_customer then 'prospect'
            {{- share_of_rank_tiers('valued.value_rank', 'valued.valued_customers', [
                ('top', 'value_tier_top_max_share'),
                ('high', 'value_tier_high_max_share'),
                ('medium', 'value_tier_medium_max_share'),
            ], 'low') }}
        end as value_tier,
        case
            {{- share_of_rank_tiers('intent_ranked.intent_rank', 'intent_ranked.ranked_contacts', [
                ('very_high', 'purchase_intent_very_high_max_share'),
                ('high', 'purchase_intent_high_max_share'),
                ('medium', 'purchase_intent_medium_max_share'),
            ], 'low') }}
        end as purchase_intent
    from joined
    left join valued
        on joined.contact_id = valued.contact_id
    left join intent_ranked
        on joined.contact_id = intent_ranked.contact_id
),

final as (
    select
        contact_id,
        as_of_date,
        cast(repeat_transactions as integer) as repeat_transactions,
        cast(t_x_days as integer) as t_x_days,
        cast(t_days as integer) as t_days,
        cast(p_alive as double) as p_alive,
        cast(expected_orders_30d as double) as expected_orders_30d,
        cast(expected_orders_90d as double) as expected_orders_90d,
        cast(expected_orders_365d as double) as expected_orders_365d,
        cast(expected_order_value as double) as expected_order_value,
        cast(predicted_clv_365d as double) as predicted_clv_365d,
        cast(churn_risk as varchar) as churn_risk,
        cast(value_tier as varchar) as value_tier,
        cast(purchase_propensity_30d as double) as purchase_propensity_30d,
        cast(purchase_intent as varchar) as purchase_intent
    from tiered
)

select * from final
