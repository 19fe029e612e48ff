-- Purchase propensity's features (SPEC section 10), per contact and state: `training`, every
-- contact that exists as of the as-of date minus var propensity_horizon_days, with its label (a
-- valid order in the horizon days that followed, up to the as-of date); `scoring`, every contact
-- that exists as of the as-of date (no label yet). The features are computed by the rules of
-- sections 1-5 at the state's date: the scoring state reads the intermediate models, the training
-- state renders the same macros (macros/as_of_state.sql, macros/as_of_activity.sql) at its date.
{%- set horizon = positive_int_var('propensity_horizon_days') | trim | int %}
{%- set training_as_of = as_of_date(minus_days=horizon) %}
{%- set states = [
    {
        'feature_state': 'training',
        'as_of': training_as_of,
        'contacts': '(' ~ contacts_filtered_to_as_of(
            training_as_of, '(' ~ orders_aggregated_to_contacts(training_as_of) ~ ')'
        ) ~ ')',
        'email': '(' ~ email_events_aggregated_to_contacts(training_as_of) ~ ')',
        'web': '(' ~ web_events_aggregated_to_contacts(training_as_of) ~ ')',
        'interactions': '(' ~ interactions_scored_to_contacts(training_as_of) ~ ')',
    },
    {
        'feature_state': 'scoring',
        'as_of': as_of_date(),
        'contacts': ref('int_contacts_filtered_to_as_of'),
        'email': ref('int_email_events_aggregated_to_contacts'),
        'web': ref('int_web_events_aggregated_to_contacts'),
        'interactions': ref('int_interactions_scored_to_contacts'),
    },
] %}

with

orders as (
    select * from {{ ref('int_orders_unioned') }}
),

-- training label: at least one valid order in (training date, as-of date]
buyers_in_horizon as (
    select distinct contact_id
    from orders
    where
        {{ is_valid_order() }}
        and cast(ordered_at as date) > {{ training_as_of }}
        and cast(ordered_at as date) <= {{ as_of_date() }}
),
{% for state in states %}

{{ state.feature_state }}_features as (
    select
        contacts.contact_id,
        '{{ state.feature_state }}' as feature_state,
        {{ state.as_of }} as feature_date,
        contacts.rfm_recency_days as recency_days,
        contacts.rfm_frequency as frequency,
        contacts.rfm_monetary as monetary,
        contacts.orders_count,
        contacts.days_since_last_order,
        {{ days_between('cast(least(contacts.created_at, contacts.first_order_at) as date)', state.as_of) }}
            as tenure_days,
        {{ lifecycle_stage('contacts.orders_count', 'contacts.days_since_last_order') }} as lifecycle_stage,
        coalesce(email.sends_count, 0) as sends_count,
        coalesce(email.opened_sends_count, 0) as opened_sends_count,
        coalesce(email.opens_count, 0) as opens_count,
        coalesce(email.clicks_count, 0) as clicks_count,
        coalesce(web.sessions_count, 0) as sessions_count,
        coalesce(web.products_viewed_count, 0) as products_viewed_count,
        coalesce(web.time_on_site_seconds, 0) as time_on_site_seconds,
        coalesce(web.has_added_to_cart, false) as has_added_to_cart,
        coalesce(web.has_started_checkout, false) as has_started_checkout,
        {{ nurturing_score('interactions.total_points') }} as nurturing_score
    from {{ state.contacts }} as contacts
    left join {{ state.email }} as email
        on contacts.contact_id = email.contact_id
    left join {{ state.web }} as web
        on contacts.contact_id = web.contact_id
    left join {{ state.interactions }} as interactions
        on contacts.contact_id = interactions.contact_id
),
{% endfor %}

unioned as (
    select
        training_features.*,
        buyers_in_horizon.contact_id is not null as has_order_in_horizon
    from training_features
    left join buyers_in_horizon
        on training_features.contact_id = buyers_in_horizon.contact_id

    union all

    select
        scoring_features.*,
        cast(null as boolean) as has_order_in_horizon
    from scoring_features
),

final as (
    select
        contact_id,
        feature_state,
        feature_date,
        cast(recency_days as integer) as recency_days,
        cast(frequency as integer) as frequency,
        cast(monetary as double) as monetary,
        cast(orders_count as integer) as orders_count,
        cast(days_since_last_order as integer) as days_since_last_order,
        cast(tenure_days as integer) as tenure_days,
        lifecycle_stage,
        cast(sends_count as integer) as sends_count,
        cast(opened_sends_count as integer) as opened_sends_count,
        cast(opens_count as integer) as opens_count,
        cast(clicks_count as integer) as clicks_count,
        cast(sessions_count as integer) as sessions_count,
        cast(products_viewed_count as integer) as products_viewed_count,
        cast(time_on_site_seconds as bigint) as time_on_site_seconds,
        has_added_to_cart,
        has_started_checkout,
        cast(nurturing_score as double) as nurturing_score,
        has_order_in_horizon
    from unioned
)

select * from final
