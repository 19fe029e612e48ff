-- Every raw carts row, parsed, with the checks that need only the row itself. Incremental:
-- a build reads only the files that are new or changed (see macros/ingest.sql).
{{ ingest_config('carts') }}
{%- set raw_types = raw_column_types('carts') %}
{%- set keys = [('cart_id', clean_text('source.raw_cart_id'))] %}
{%- set rules %}
parsed as (
    select
        {{ clean_text('raw_cart_id') }} as cart_id,
        {{ clean_text('raw_contact_id') }} as contact_id,
        {{ parse_timestamp('raw_created_at', raw_types.get('created_at')) }} as created_at,
        {{ parse_timestamp('raw_updated_at', raw_types.get('updated_at')) }} as updated_at,
        {{ parse_decimal('raw_value_net') }} as value_net,
        {{ clean_text('raw_order_id') }} as order_id,
        source.*
    from source
),

checked as (
    select
        parsed.*,
        {{ dq_first_failure([
            ("parsed.cart_id is null", 'missing_key', 'cart_id'),
            (is_unparseable('parsed.raw_created_at', 'parsed.created_at'), 'unparseable_timestamp', 'created_at'),
            ("parsed.created_at is null", 'missing_required_value', 'created_at'),
        ]) }} as dq_row_failure,
        {{ dq_emptied_columns([
            (is_unparseable('parsed.raw_updated_at', 'parsed.updated_at'), 'updated_at'),
            (is_unparseable('parsed.raw_value_net', 'parsed.value_net'), 'value_net'),
        ]) }} as dq_emptied_columns
    from parsed
)
{%- endset %}

{{ ingest_model(
    'carts', rules, keys,
    raw_types,
) }}
