-- One row per contact: nurturing score (SPEC section 5) and band, with the points of each
-- interaction type (already decayed, see int_interactions_scored_to_contacts) so that a marketer
-- sees why a contact is hot. The total is capped at var score_cap, then rounded to 2 decimals;
-- bands read the rounded score: hot from var score_hot_min, warm from var score_warm_min, else cold.
with

contacts as (
    select * from {{ ref('int_contacts_filtered_to_as_of') }}
),

points as (
    select * from {{ ref('int_interactions_scored_to_contacts') }}
),

scored as (
    select
        contacts.contact_id,
        contacts.as_of_date,
        {{ nurturing_score('points.total_points') }} as nurturing_score,
        cast(coalesce(points.scored_interactions_count, 0) as integer) as scored_interactions_count,
        {%- for interaction_type in nurturing_interaction_types() %}
        {{ round_double('coalesce(points.' ~ interaction_type ~ '_points, 0)', 2) }}
            as {{ interaction_type }}_points,
        {%- endfor %}
        {{ round_double('coalesce(points.other_points, 0)', 2) }} as other_points,
        {{ round_double('coalesce(points.total_points, 0)', 2) }} as uncapped_points
    from contacts
    left join points
        on contacts.contact_id = points.contact_id
),

banded as (
    select
        contact_id,
        as_of_date,
        nurturing_score,
        case
            when nurturing_score >= {{ number_var('score_hot_min') }} then 'hot'
            when nurturing_score >= {{ number_var('score_warm_min') }} then 'warm'
            else 'cold'
        end as score_band,
        scored_interactions_count,
        {%- for interaction_type in nurturing_interaction_types() %}
        {{ interaction_type }}_points,
        {%- endfor %}
        other_points,
        uncapped_points
    from scored
)

select * from banded
