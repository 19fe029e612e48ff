-- Every raw products row, parsed, with the checks that need only the row itself. Incremental:
-- a build reads only the files that are new or changed (see macros/ingest.sql).
{{ ingest_config('products') }}
{%- set raw_types = raw_column_types('products') %}
{%- set keys = [('product_id', clean_text('source.raw_product_id'))] %}
{%- set rules %}
parsed as (
    select
        {{ clean_text('raw_product_id') }} as product_id,
        {{ clean_text('raw_product_name') }} as product_name,
        {{ clean_text('raw_category') }} as category,
        {{ parse_decimal('raw_price_net') }} as price_net,
        source.*
    from source
),

checked as (
    select
        *,
        {{ dq_first_failure([
            ("product_id is null", 'missing_key', 'product_id'),
        ]) }} as dq_row_failure,
        {{ dq_emptied_columns([
            (is_unparseable('raw_price_net', 'price_net'), 'price_net'),
        ]) }} as dq_emptied_columns
    from parsed
)
{%- endset %}

{{ ingest_model(
    'products', rules, keys,
    raw_types,
) }}
