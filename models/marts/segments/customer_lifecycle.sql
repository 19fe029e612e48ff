{{ check_lifecycle_vars() }}
with

contacts as (
    select * from {{ ref('int_contacts_filtered_to_as_of') }}
),

staged as (
    select
        contact_id,
        as_of_date,
        {{ lifecycle_stage('orders_count', 'days_since_last_order') }} as lifecycle_stage,
        orders_count,
        days_since_last_order
    from contacts
)

select * from staged
