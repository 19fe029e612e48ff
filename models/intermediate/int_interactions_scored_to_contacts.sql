-- Per contact: nurturing points (SPEC section 5) of the interactions within var score_window_days.
-- Each interaction earns the points of its type (seed nurturing_score_weights: web event types
-- as they are, email opens and clicks as email_open / email_click), halved every
-- var score_half_life_days of age: points * 0.5 ^ (days_since / half_life), days_since in whole
-- UTC days (an interaction on the as-of date keeps all its points). Types the seed does not list
-- earn nothing. The points are summed per type here; the cap and the bands are in customer_scores.
with

web_events as (
    select * from {{ ref('stg_raw__web_events') }}
),

email_events as (
    select * from {{ ref('stg_raw__email_events') }}
),

weights as (
    select * from {{ ref('nurturing_score_weights') }}
),

interactions as (
    select
        contact_id,
        event_type as interaction_type,
        occurred_at
    from web_events
    where
        contact_id is not null
        and {{ within_days_of_as_of('occurred_at', int_var('score_window_days')) }}

    union all

    select
        contact_id,
        'email_' || event_type as interaction_type,
        occurred_at
    from email_events
    where
        event_type in ('open', 'click')
        and {{ within_days_of_as_of('occurred_at', int_var('score_window_days')) }}
),

aged as (
    select
        contact_id,
        interaction_type,
        {{ days_since('occurred_at') }} as age_days
    from interactions
),

weighted as (
    select
        aged.contact_id,
        case
            when aged.interaction_type in (
                {%- for interaction_type in nurturing_interaction_types() %}
                '{{ interaction_type }}'{% if not loop.last %},{% endif %}
                {%- endfor %}
            ) then aged.interaction_type
            else 'other'
        end as interaction_type,
        weights.points * pow(0.5, aged.age_days / {{ positive_int_var('score_half_life_days') }}.0)
            as decayed_points
    from aged
    inner join weights
        on aged.interaction_type = weights.interaction_type
),

per_contact as (
    select
        contact_id,
        count(*) as scored_interactions_count,
        sum(decayed_points) as total_points,
        {%- for interaction_type in nurturing_interaction_types() %}
        coalesce(sum(decayed_points) filter (where interaction_type = '{{ interaction_type }}'), 0)
            as {{ interaction_type }}_points,
        {%- endfor %}
        coalesce(sum(decayed_points) filter (where interaction_type = 'other'), 0) as other_points
    from weighted
    group by contact_id
)

select * from per_contact
