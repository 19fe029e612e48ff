{%- set raw_types = raw_column_types('orders') %}
with

source as (
    {{ read_raw_entity('orders') }}
),

contacts as (
    select contact_id from {{ ref('stg_raw__contacts') }}
),

currency_rates as (
    select * from {{ ref('currency_rates') }}
),

parsed as (
    select
        {{ clean_text('source.raw_order_id') }} as order_id,
        {{ clean_text('source.raw_contact_id') }} as contact_id,
        {{ parse_timestamp('source.raw_ordered_at', raw_types.get('ordered_at')) }} as ordered_at,
        lower({{ clean_text('source.raw_status') }}) as status,
        upper({{ clean_text('source.raw_currency') }}) as currency,
        {{ parse_decimal('source.raw_amount_net') }} as amount_net,
        {{ parse_decimal('source.raw_amount_gross') }} as amount_gross,
        {{ clean_text('source.raw_discount_code') }} as discount_code,
        {{ raw_columns('orders', 'source') }},
        source._source_file,
        source._source_row
    from source
),

store as (
    -- The store currency: the var, else the currency most orders carry (read from the raw
    -- currency column alone).
    -- A reader of its own: a second reference to `source` would make DuckDB materialise it.
    {%- if (store_currency() | trim) == 'null' %}
    select mode(upper({{ clean_text('currency_source.raw_currency') }})) as store_currency
    from ({{ read_raw_entity('orders') }}) as currency_source
    where {{ clean_text('currency_source.raw_currency') }} is not null
    {%- else %}
    select {{ store_currency() }} as store_currency
    {%- endif %}
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
            ("converted.order_id is null", 'missing_key', 'order_id'),
            ("converted.contact_id is null", 'missing_key', 'contact_id'),
            (is_unparseable('converted.raw_ordered_at', 'converted.ordered_at'), 'unparseable_timestamp', 'ordered_at'),
            (is_unparseable('converted.raw_amount_net', 'converted.amount_net'), 'unparseable_number', 'amount_net'),
            ("converted.ordered_at is null", 'missing_required_value', 'ordered_at'),
            ("converted.amount_net is null", 'missing_required_value', 'amount_net'),
            ("converted.status is null", 'missing_required_value', 'status'),
            ("converted.status not in ('completed', 'cancelled', 'pending')", 'unknown_status', 'status'),
            ("contacts.contact_id is null", 'unknown_contact', 'contact_id'),
            ("converted.exchange_rate is null", 'currency_without_rate', 'currency'),
        ]) }} as dq_failure,
        {{ dq_emptied_columns([
            (is_unparseable('converted.raw_amount_gross', 'converted.amount_gross'), 'amount_gross'),
        ]) }} as dq_emptied_columns
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
        {{ dq_columns('orders') }}
    from checked
)

select * from final
