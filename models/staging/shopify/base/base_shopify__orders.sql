-- Every row of Fivetran's Shopify `order` table with its status, net amount in the store currency
-- and data-quality failure (null when the row is usable). Read by stg_shopify__orders (usable
-- rows), base_shopify__refunds (the refunded order) and data_quality_issues (the others).
with

source_orders as {{ not_materialized() }} (
    -- Not materialized: the store currency reads it again, as a reader of its own.
    select * from {{ shopify_table('order') }}
),

contacts as (
    select contact_id from {{ ref('stg_shopify__contacts') }}
),

currency_rates as (
    select * from {{ ref('currency_rates') }}
),

store as (
    -- The store currency: the var, else the currency most orders carry.
    {%- if (store_currency() | trim) == 'null' %}
    select mode(upper(trim(currency))) as store_currency
    from source_orders
    where nullif(trim(currency), '') is not null
    {%- else %}
    select {{ store_currency() }} as store_currency
    {%- endif %}
),

numbered as (
    select
        source_orders.*,
        {{ row_as_struct('source_orders') }} as raw_row,
        -- A table has no row order: the row's place by id and sync time names it in
        -- data_quality_issues (the hash makes the order total, so every read numbers rows alike).
        cast(row_number() over (
            order by
                source_orders.id nulls last, source_orders._fivetran_synced nulls last,
                source_orders.updated_at nulls last, {{ row_hash('source_orders') }}
        ) as bigint) as _source_row
    from source_orders
),

parsed as (
    select
        cast(id as string) as order_id,
        cast(customer_id as string) as contact_id,
        -- processed_at is when the order was placed (an imported order keeps its own date).
        coalesce(processed_at, created_at) as ordered_at,
        case
            when cancelled_at is not null then 'cancelled'
            when lower(financial_status) in ('paid', 'partially_refunded', 'refunded') then 'completed'
            when lower(financial_status) in ('pending', 'authorized', 'partially_paid') then 'pending'
            when lower(financial_status) in ('voided', 'expired') then 'cancelled'
        end as status,
        nullif(upper(trim(currency)), '') as currency,
        -- Net of tax: the lines after discounts, without shipping; tax taken out when prices include it.
        cast(
            subtotal_price - case when taxes_included then coalesce(total_tax, 0) else 0 end
            as decimal(18, 4)
        ) as amount_in_currency,
        coalesce(taxes_included, false) as taxes_included,
        coalesce(_fivetran_deleted, false) as is_deleted,
        coalesce(test, false) as is_test_order,
        -- Two copies of one id: the one Fivetran wrote last wins.
        cast(row_number() over (
            partition by id
            order by _fivetran_synced desc nulls last, updated_at desc nulls last, _source_row desc
        ) as bigint) as copy_rank,
        _source_row,
        raw_row
    from numbered
),

converted as (
    select
        parsed.*,
        store.store_currency,
        case
            when parsed.currency is null or parsed.currency = store.store_currency then 1
            else currency_rates.rate_to_store_currency
        end as exchange_rate
    from parsed
    cross join store
    left join currency_rates
        on parsed.currency = upper(trim(currency_rates.currency))
),

checked as (
    select
        converted.*,
        {{ dq_first_failure([
            ("converted.order_id is null", 'missing_key', 'id'),
            ("converted.copy_rank > 1", 'duplicate_key', 'id'),
            ("converted.is_deleted", 'deleted_in_source', '_fivetran_deleted'),
            ("converted.is_test_order", 'test_order', 'test'),
            ("converted.contact_id is null", 'missing_customer_id', 'customer_id'),
            ("converted.ordered_at is null", 'missing_required_value', 'processed_at'),
            ("converted.status is null", 'unknown_status', 'financial_status'),
            ("converted.amount_in_currency is null", 'missing_required_value', 'subtotal_price'),
            ("converted.amount_in_currency < 0", 'negative_amount', 'subtotal_price'),
            ("contacts.contact_id is null", 'unknown_contact', 'customer_id'),
            ("converted.exchange_rate is null", 'currency_without_rate', 'currency'),
        ]) }} as dq_failure
    from converted
    left join contacts
        on converted.contact_id = contacts.contact_id
),

final as (
    select
        order_id,
        contact_id,
        ordered_at,
        status,
        coalesce(currency, store_currency) as currency,
        store_currency,
        exchange_rate,
        taxes_included,
        cast(amount_in_currency * exchange_rate as decimal(18, 4)) as amount_net,
        copy_rank,
        order_id as record_key,
        dq_failure,
        {{ empty_string_list() }} as dq_emptied_columns,
        {{ shopify_source_name('order') }} as _source_file,
        _source_row,
        raw_row
    from checked
)

select * from final
