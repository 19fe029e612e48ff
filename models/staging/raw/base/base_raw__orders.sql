-- Every raw orders row, parsed, with the checks that need only the row itself. Incremental:
-- a build reads only the files that are new or changed (see macros/ingest.sql).
{{ ingest_config('orders') }}
{%- set raw_types = raw_column_types('orders') %}
{%- set keys = [('order_id', clean_text('source.raw_order_id'))] %}
{%- set rules %}
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
        source._source_row,
        source._source_fingerprint
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
    ['order_id', 'contact_id', 'ordered_at', 'status', 'currency', 'amount_net', 'amount_gross', 'discount_code'],
    raw_types,
) }}
