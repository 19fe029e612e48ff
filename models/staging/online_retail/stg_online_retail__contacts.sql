-- One contact per customer number; created when their first invoice line was written.
with

checked as (
    select * from {{ ref('base_online_retail__lines') }}
),

attributable as (
    select * from checked
    where is_attributable
),

contacts as (
    select
        contact_id,
        min(invoiced_at) as created_at,
        min_by(country, invoiced_at) as country
    from attributable
    group by contact_id
)

select * from contacts
