-- Every landed orders row with its verdict: the base table's rows (parsed, row checks), the checks
-- against contacts and the exchange rates, the conversion into the store currency, the choice
-- between rows with the same key, and the raw row. dq_failure is null on a usable row; else it
-- gives the reason and column ({reason, column_name}; a row replaced by a later copy of its key is
-- reason duplicate_key). Consumers read the usable rows (`where dq_failure is null`);
-- data_quality_issues reads the others.
{%- set raw_types = ingested_raw_types('orders') %}
with

ingested as (
    select * from {{ ref('base_raw__orders') }}
),

contacts as (
    select contact_id
    from {{ ref('stg_raw__contacts') }}
    where dq_failure is null
),

currency_rates as (
    select * from {{ ref('currency_rates') }}
),

store as (
    -- The store currency: the var, else the currency most orders carry.
    -- A reader of its own: a second reference to `ingested` would make DuckDB materialise it.
    {%- if (store_currency() | trim) == 'null' %}
    select mode(currency) as store_currency
    from {{ ref('base_raw__orders') }}
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

checked as {{ not_materialized() }} (
    -- Not materialized: the duplicate ranking reads it again, for the repeated keys only.
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

repeated_keys as (
    -- The keys held by two or more rows: the base table marks at least one row of each
    -- (key_seen_before), so only the rows of those keys are ranked, never the whole entity.
    select distinct key_hash
    from {{ ref('base_raw__orders') }}
    where key_seen_before
),

duplicates as (
    -- The usable rows that another usable row with the same key replaces:
    -- the row with the latest ordered_at is kept, ties go to the later row in file order.
    -- A hash collision only adds candidates: the window partitions by the key itself.
    select
        checked._source_file,
        checked._source_row
    from checked
    semi join repeated_keys
        on checked.key_hash = repeated_keys.key_hash
    where checked.dq_failure is null
    qualify row_number() over (
        partition by checked.order_id
        order by
            checked.ordered_at desc nulls last,
            checked._source_file desc,
            checked._source_row desc
    ) > 1
),

final as (
    select
        checked.order_id,
        checked.contact_id,
        checked.ordered_at,
        checked.status,
        coalesce(checked.currency, checked.store_currency) as currency,
        checked.store_currency,
        checked.exchange_rate,
        cast(checked.amount_net * checked.exchange_rate as decimal(18, 4)) as amount_net,
        cast(checked.amount_gross * checked.exchange_rate as decimal(18, 4)) as amount_gross,
        checked.discount_code,
        coalesce(
            checked.dq_failure,
            case
                when duplicates._source_row is not null
                    then {{ struct_of({'reason': "'duplicate_key'", 'column_name': "'order_id'"}) }}
            end
        ) as dq_failure,
        checked.dq_emptied_columns,
        checked.order_id as record_key,
        checked._source_file,
        checked._source_row,
        {{ ingest_raw_row('orders', 'checked', raw_types) }} as raw_row
    from checked
    left join duplicates
        on
            checked._source_file = duplicates._source_file
            and checked._source_row = duplicates._source_row
)

select * from final
