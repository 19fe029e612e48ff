-- One row per (as-of date, cluster): the K-Means centroid (SPEC section 10, Clusters) in
-- standardised units (the mean of the members' standardised features) and in the features'
-- original units (the mean of the members' log(1 + x), turned back with exp(m) - 1, for recency,
-- frequency and monetary; the mean for open rate and nurturing score), the size and the mean
-- monetary the clusters are numbered by.
-- The centroids are kept per as-of date: each build replaces the rows of its own date (a pre-hook
-- deletes them, so a date that now has too few customers to cluster keeps no stale rows) and keeps
-- the other days. full_refresh=false, as for the history tables.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        full_refresh=false,
        pre_hook="{% if is_incremental() %}delete from {{ this }} where as_of_date = {{ as_of_date() }}{% endif %}",
    )
}}

with

clustered as (
    select * from {{ ref('int_customers_clustered') }}
),

summarised as (
    select
        cluster_number,
        count(*) as customers_count,
        avg(monetary) as mean_monetary,
        avg(recency_z) as recency_z,
        avg(frequency_z) as frequency_z,
        avg(monetary_z) as monetary_z,
        avg(open_rate_z) as open_rate_z,
        avg(nurturing_score_z) as nurturing_score_z,
        exp(avg(ln(1 + recency_days))) - 1 as recency_days,
        exp(avg(ln(1 + frequency))) - 1 as frequency,
        exp(avg(ln(1 + monetary))) - 1 as monetary,
        avg(open_rate) as open_rate,
        avg(nurturing_score) as nurturing_score
    from clustered
    group by cluster_number
),

final as (
    select
        {{ as_of_date() }} as as_of_date,
        cast(cluster_number as integer) as cluster_number,
        cast('cluster_' || cluster_number as varchar) as cluster_name,
        cast(customers_count as integer) as customers_count,
        cast(customers_count / sum(customers_count) over () as double) as customers_share,
        cast(mean_monetary as double) as mean_monetary,
        cast(recency_z as double) as recency_z,
        cast(frequency_z as double) as frequency_z,
        cast(monetary_z as double) as monetary_z,
        cast(open_rate_z as double) as open_rate_z,
        cast(nurturing_score_z as double) as nurturing_score_z,
        cast(recency_days as double) as recency_days,
        cast(frequency as double) as frequency,
        cast(monetary as double) as monetary,
        cast(open_rate as double) as open_rate,
        cast(nurturing_score as double) as nurturing_score
    from summarised
)

select * from final
