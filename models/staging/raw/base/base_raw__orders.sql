-- Every raw orders row, parsed, with the checks that need only the row itself. Incremental:
-- a build reads only the files that are new or changed (see macros/ingest.sql).
{{ ingest_config('orders') }}
{%- set raw_types = raw_column_types('orders') %}
{%- set keys = [('order_id', clean_text('source.raw_order_id'))] %}
{%- set rules %}
parsed as (
    select
        {{ clean_text('raw_order_id') }} as order_id,
        {{ clean_text('raw_contact_id') }} as contact_id,
        {{ parse_timestamp('raw_ordered_at', raw_types.get('ordered_at')) }} as ordered_at,
        lower({{ clean_text('raw_status') }}) as status,
        upper({{ clean_text('raw_currency') }}) as currency,
        {{ parse_decimal('raw_amount_net') }} as amount_net,
        {{ parse_decimal('raw_amount_gross') }} as amount_gross,
        {{ clean_text('raw_discount_code') }} as discount_code,
        source.*
    from source
),

checked as (
    select
        parsed.*,
        {{ dq_first_failure([
            ("parsed.order_id is null", 'missing_key', 'order_id'),
            ("parsed.contact_id is null", 'missing_key', 'contact_id'),
            (is_unparseable('parsed.raw_ordered_at', 'parsed.ordered_at'), 'unparseable_timestamp', 'ordered_at'),
            (is_unparseable('parsed.raw_amount_net', 'parsed.amount_net'), 'unparseable_number', 'amount_net'),
            ("parsed.ordered_at is null", 'missing_required_value', 'ordered_at'),
            ("parsed.amount_net is null", 'missing_required_value', 'amount_net'),
            ("parsed.status is null", 'missing_required_value', 'status'),
            ("parsed.status not in ('completed', 'cancelled', 'pending')", 'unknown_status', 'status'),
        ]) }} as dq_row_failure,
        {{ dq_emptied_columns([
            (is_unparseable('parsed.raw_amount_gross', 'parsed.amount_gross'), 'amount_gross'),
        ]) }} as dq_emptied_columns
    from parsed
)
{%- endset %}

{{ ingest_model(
    'orders', rules, keys,
    raw_types,
) }}
