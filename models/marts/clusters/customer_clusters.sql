-- One row per customer clustered as of the date: the K-Means cluster (SPEC section 10, Clusters)
-- and the standardised features it was found on (int_customers_clustered, Python). Cluster 1 has
-- the highest mean monetary. Empty when there were too few customers to cluster.
with

clustered as (
    select * from {{ ref('int_customers_clustered') }}
),

final as (
    select
        cast(clustered.contact_id as varchar) as contact_id,
        {{ as_of_date() }} as as_of_date,
        cast(clustered.cluster_number as integer) as cluster_number,
        cast('cluster_' || clustered.cluster_number as varchar) as cluster_name,
        cast(clustered.recency_z as double) as recency_z,
        cast(clustered.frequency_z as double) as frequency_z,
        cast(clustered.monetary_z as double) as monetary_z,
        cast(clustered.open_rate_z as double) as open_rate_z,
        cast(clustered.nurturing_score_z as double) as nurturing_score_z
    from clustered
)

select * from final
