with

source as (
    {{ read_raw_entity('products') }}
),

parsed as (
    select
        {{ clean_text('source.raw_product_id') }} as product_id,
        {{ clean_text('source.raw_product_name') }} as product_name,
        {{ clean_text('source.raw_category') }} as category,
        {{ parse_decimal('source.raw_price_net') }} as price_net,
        {{ raw_columns('products', 'source') }},
        source._source_file,
        source._source_row
    from source
),

checked as (
    select
        *,
        {{ dq_first_failure([
            ("product_id is null", 'missing_key', 'product_id'),
        ]) }} as dq_failure,
        {{ dq_emptied_columns([
            (is_unparseable('raw_price_net', 'price_net'), 'price_net'),
        ]) }} as dq_emptied_columns
    from parsed
),

final as (
    select
        product_id,
        product_name,
        category,
        price_net,
        product_id as record_key,
        {{ dq_columns('products') }}
    from checked
)

select * from final
