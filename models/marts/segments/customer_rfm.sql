with

contacts as (
    select * from {{ ref('int_contacts_filtered_to_as_of') }}
),

scores as (
    select * from {{ ref('int_contacts_scored_rfm') }}
),

segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

final as (
    select
        contacts.contact_id,
        contacts.as_of_date,
        contacts.rfm_first_order_at as first_order_at,
        contacts.rfm_last_order_at as last_order_at,
        contacts.rfm_recency_days as recency_days,
        contacts.rfm_frequency as frequency,
        contacts.rfm_monetary as monetary,
        scores.r_score,
        scores.f_score,
        scores.m_score,
        scores.rfm_cell,
        case
            when scores.contact_id is null then 'Prospects'
            else segment_map.rfm_segment
        end as rfm_segment
    from contacts
    left join scores
        on contacts.contact_id = scores.contact_id
    left join segment_map
        on
            scores.r_score = segment_map.r_score
            and scores.f_score = segment_map.f_score
)

select * from final
