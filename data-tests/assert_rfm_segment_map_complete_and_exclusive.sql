-- Every one of the 25 (R, F) cells has exactly one segment name: returns the cells that are
-- missing or mapped more than once, and any name outside the 11 buyer segments.
with

cells as (
    select
        r_score.r_score,
        f_score.f_score
    from range(1, 6) as r_score (r_score)
    cross join range(1, 6) as f_score (f_score)
),

segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

mapped as (
    select
        cells.r_score,
        cells.f_score,
        count(segment_map.rfm_segment) as name_count
    from cells
    left join segment_map
        on
            cells.r_score = segment_map.r_score
            and cells.f_score = segment_map.f_score
    group by cells.r_score, cells.f_score
),

problems as (
    select
        r_score,
        f_score,
        'cell has ' || name_count || ' names' as problem
    from mapped
    where name_count <> 1

    union all

    select
        r_score,
        f_score,
        'unknown segment ' || rfm_segment as problem
    from segment_map
    where
        rfm_segment not in (
            'Champions', 'Loyal Customers', 'Potential Loyalists', 'New Customers', 'Promising',
            'Need Attention', 'About to Sleep', 'At Risk', 'Can''t Lose Them', 'Hibernating', 'Lost'
        )

    union all

    select
        r_score,
        f_score,
        'cell outside 1..5' as problem
    from segment_map
    where r_score not between 1 and 5 or f_score not between 1 and 5
)

select * from problems
