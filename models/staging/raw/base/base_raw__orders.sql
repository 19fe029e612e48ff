-- Every raw orders row with its data-quality failure: the ingested row (row checks) plus the checks
-- against other entities and the currency conversion, run at read time. Read by stg_raw__orders
-- (usable rows) and data_quality_issues (the others).
{%- set raw_types = ingested_raw_types('orders') %}
with

ingested as (
    select * from {{ ref('ingest_raw__orders') }}
),

contacts as (
    select contact_id from {{ ref('stg_raw__contacts') }}
),

currency_rates as (
    select * from {{ ref('currency_rates') }}
),

store as (
    -- The store currency: the var, else the currency most orders carry.
    -- A reader of its own: a second reference to `ingested` would make DuckDB materialise it.
    {%- if (store_currency() | trim) == 'null' %}
    select mode(currency) as store_currency
    from {{ ref('ingest_raw__orders') }}
    where currency is not null
    {%- else %}
    select {{ store_currency() }} as store_currency
    {%- endif %}
),

converted as (
    select
        ingested.*,
        store.store_currency,
        case
            when ingested.currency is null or ingested.currency = store.store_currency then 1
            else currency_rates.rate_to_store_currency
        end as exchange_rate
    from ingested
    cross join store
    left join currency_rates
        on ingested.currency = upper(trim(currency_rates.currency))
),

checked as (
    select
        converted.*,
        coalesce(
            converted.dq_row_failure,
            {{ dq_first_failure([
                ("contacts.contact_id is null", 'unknown_contact', 'contact_id'),
                ("converted.exchange_rate is null", 'currency_without_rate', 'currency'),
            ]) }}
        ) as dq_failure
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
        cast(amount_net * exchange_rate as decimal(18, 4)) as amount_net,
        cast(amount_gross * exchange_rate as decimal(18, 4)) as amount_gross,
        discount_code,
        order_id as record_key,
        key_hash,
        {{ dq_ingested_columns('orders', raw_types) }}
    from checked
)

select * from final
