-- Every raw order_items row, parsed, with the checks that need only the row itself. Incremental:
-- a build reads only the files that are new or changed (see macros/ingest.sql).
{{ ingest_config('order_items') }}
{%- set raw_types = raw_column_types('order_items') %}
{%- set keys = [
    ('order_id', clean_text('source.raw_order_id')),
    ('line_number', parse_integer('source.raw_line_number')),
] %}
{%- set rules %}
parsed as (
    select
        {{ clean_text('raw_order_id') }} as order_id,
        {{ parse_integer('raw_line_number') }} as line_number,
        {{ clean_text('raw_product_id') }} as product_id,
        {{ parse_integer('raw_quantity') }} as quantity,
        {{ parse_decimal('raw_unit_price_net') }} as unit_price_net,
        source.*
    from source
),

checked as (
    select
        parsed.*,
        {{ dq_first_failure([
            ("parsed.order_id is null", 'missing_key', 'order_id'),
            (is_unparseable('parsed.raw_line_number', 'parsed.line_number'), 'unparseable_number', 'line_number'),
            ("parsed.line_number is null", 'missing_key', 'line_number'),
            (is_unparseable('parsed.raw_quantity', 'parsed.quantity'), 'unparseable_number', 'quantity'),
            (is_unparseable('parsed.raw_unit_price_net', 'parsed.unit_price_net'), 'unparseable_number', 'unit_price_net'),
            ("parsed.quantity < 0", 'negative_quantity', 'quantity'),
        ]) }} as dq_row_failure,
        {{ dq_emptied_columns([]) }} as dq_emptied_columns
    from parsed
)
{%- endset %}

{{ ingest_model(
    'order_items', rules, keys,
    raw_types,
) }}
