-- No age from 0 to 130 falls in two bands of seed age_bands; every persona's age range is
-- non-empty. (Personas may overlap: their priority decides.)
-- In Dagster this is a check on age_bands (it reads two nodes, so it says which).
{{ config(meta={'dagster': {'ref': {'name': 'age_bands'}}}) }}

with

ages as (
    select age.age
    from range(0, 131) as age (age)
),

age_bands as (
    select * from {{ ref('age_bands') }}
),

personas as (
    select * from {{ ref('personas') }}
),

bands_per_age as (
    select
        ages.age,
        count(age_bands.age_band) as band_count
    from ages
    left join age_bands
        on
            ages.age >= age_bands.min_age
            and (age_bands.max_age is null or ages.age <= age_bands.max_age)
    group by ages.age
),

problems as (
    select 'age ' || age || ' is in ' || band_count || ' bands' as problem
    from bands_per_age
    where band_count > 1

    union all

    select 'persona ' || persona || ' has an empty age range' as problem
    from personas
    where max_age is not null and max_age < min_age
)

select * from problems
