with

source as (
    {{ read_raw_entity('order_items') }}
),

orders as (
    select order_id from {{ ref('stg_raw__orders') }}
),

parsed as (
    select
        {{ clean_text('source.raw_order_id') }} as order_id,
        {{ parse_integer('source.raw_line_number') }} as line_number,
        {{ clean_text('source.raw_product_id') }} as product_id,
        {{ parse_integer('source.raw_quantity') }} as quantity,
        {{ parse_decimal('source.raw_unit_price_net') }} as unit_price_net,
        {{ raw_columns('order_items', 'source') }},
        source._source_file,
        source._source_row
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
            ("orders.order_id is null", 'unknown_order', 'order_id'),
        ]) }} as dq_failure,
        {{ dq_emptied_columns([]) }} as dq_emptied_columns
    from parsed
    left join orders
        on parsed.order_id = orders.order_id
),

final as (
    select
        order_id,
        line_number,
        product_id,
        quantity,
        unit_price_net,
        order_id || '#' || line_number as record_key,
        {{ dq_columns('order_items') }}
    from checked
)

select * from final
