-- Every row of Fivetran's Shopify `customer` table with its data-quality failure (null when the row
-- is usable). Read by stg_shopify__contacts (usable rows) and data_quality_issues (the others).
with

source_customers as (
    select * from {{ shopify_table('customer') }}
),

numbered as (
    select
        source_customers.*,
        {{ row_as_struct('source_customers') }} as raw_row,
        -- A table has no row order: the row's place by id and sync time names it in
        -- data_quality_issues (the hash makes the order total, so every read numbers rows alike).
        cast(row_number() over (
            order by
                source_customers.id nulls last, source_customers._fivetran_synced nulls last,
                source_customers.updated_at nulls last, {{ row_hash('source_customers') }}
        ) as bigint) as _source_row
    from source_customers
),

ranked as (
    select
        *,
        -- Two copies of one id: the one Fivetran wrote last wins.
        cast(row_number() over (
            partition by id
            order by _fivetran_synced desc nulls last, updated_at desc nulls last, _source_row desc
        ) as bigint) as copy_rank
    from numbered
),

parsed as (
    select
        cast(id as string) as contact_id,
        nullif(trim(email), '') as email,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        created_at,
        -- Consent: the email marketing consent state (API 2022-04 on), else accepts_marketing.
        coalesce(
            lower(email_marketing_consent_state) = 'subscribed',
            accepts_marketing
        ) as email_consent,
        coalesce(
            email_marketing_consent_consent_updated_at, accepts_marketing_updated_at
        ) as consent_changed_at,
        lower(email_marketing_consent_state) as consent_state,
        copy_rank,
        _source_row,
        raw_row
    from ranked
),

final as (
    select
        contact_id,
        email,
        first_name,
        last_name,
        created_at,
        email_consent,
        case when email_consent then consent_changed_at end as subscribed_at,
        case when consent_state = 'unsubscribed' then consent_changed_at end as unsubscribed_at,
        contact_id as record_key,
        {{ dq_first_failure([
            ("contact_id is null", 'missing_key', 'id'),
            ("copy_rank > 1", 'duplicate_key', 'id'),
        ]) }} as dq_failure,
        {{ empty_string_list() }} as dq_emptied_columns,
        {{ shopify_source_name('customer') }} as _source_file,
        _source_row,
        raw_row
    from parsed
)

select * from final
