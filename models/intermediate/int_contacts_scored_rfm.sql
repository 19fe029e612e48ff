-- RFM scores 1 to 5 for every contact with a valid order in the RFM window, by the method of
-- var rfm_scoring: `quantile` (ties share the lowest rank, ordered worst to best,
-- score = 1 + floor(5 * (rank - 1) / N)) or `thresholds` (seed rfm_score_thresholds).
with

contacts as (
    select * from {{ ref('int_contacts_filtered_to_as_of') }}
),

scored_contacts as (
    select
        contact_id,
        rfm_recency_days as recency_days,
        rfm_frequency as frequency,
        rfm_monetary as monetary
    from contacts
    where rfm_frequency > 0
),

{% if rfm_scoring() == 'quantile' %}
ranked as (
    select
        contact_id,
        count(*) over () as scored_count,
        rank() over (order by recency_days desc) as recency_rank,
        rank() over (order by frequency asc) as frequency_rank,
        rank() over (order by monetary asc) as monetary_rank
    from scored_contacts
),

scores as (
    select
        contact_id,
        cast(1 + {{ integer_divide('(5 * (recency_rank - 1))', 'scored_count') }} as integer) as r_score,
        cast(1 + {{ integer_divide('(5 * (frequency_rank - 1))', 'scored_count') }} as integer) as f_score,
        cast(1 + {{ integer_divide('(5 * (monetary_rank - 1))', 'scored_count') }} as integer) as m_score
    from ranked
),
{% else %}
thresholds as (
    select * from {{ ref('rfm_score_thresholds') }}
),

scores as (
    select
        scored_contacts.contact_id,
        {%- for metric, column in [('recency', 'recency_days'), ('frequency', 'frequency'), ('monetary', 'monetary')] %}
        (
            select max(thresholds.score)
            from thresholds
            where
                thresholds.metric = '{{ metric }}'
                and (thresholds.min_value is null or scored_contacts.{{ column }} >= thresholds.min_value)
                and (thresholds.max_value is null or scored_contacts.{{ column }} < thresholds.max_value)
        ) as {{ metric[0] }}_score{% if not loop.last %},{% endif %}
        {%- endfor %}
    from scored_contacts
),
{% endif %}

final as (
    select
        contact_id,
        r_score,
        f_score,
        m_score,
        cast(r_score as string) || cast(f_score as string) || cast(m_score as string) as rfm_cell
    from scores
)

select * from final
