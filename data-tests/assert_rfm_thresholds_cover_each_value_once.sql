-- The bands of seed rfm_score_thresholds, per metric, follow one another without gap or
-- overlap from the first (open or starting at 0) to the last (open), one band per score.
with

thresholds as (
    select * from {{ ref('rfm_score_thresholds') }}
),

ordered as (
    select
        metric,
        score,
        min_value,
        max_value,
        lead(min_value) over (partition by metric order by min_value nulls first) as next_min_value,
        row_number() over (partition by metric order by min_value nulls first) as band_number,
        count(*) over (partition by metric) as bands
    from thresholds
),

problems as (
    select
        metric,
        score,
        'band does not end where the next begins' as problem
    from ordered
    where band_number < bands and (max_value is null or max_value <> next_min_value)

    union all

    select
        metric,
        score,
        'last band must be open-ended' as problem
    from ordered
    where band_number = bands and max_value is not null

    union all

    select
        metric,
        score,
        'band is empty or reversed' as problem
    from ordered
    where min_value is not null and max_value is not null and max_value <= min_value

    union all

    select
        metric,
        cast(null as integer) as score,
        'metric needs 5 bands, one per score' as problem
    from thresholds
    group by metric
    having count(distinct score) <> 5 or count(*) <> 5
)

select * from problems
