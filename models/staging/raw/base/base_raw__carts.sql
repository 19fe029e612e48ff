{%- set raw_types = raw_column_types('carts') %}
with

source as (
    {{ read_raw_entity('carts') }}
),

contacts as (
    select contact_id from {{ ref('stg_raw__contacts') }}
),

parsed as (
    select
        {{ clean_text('source.raw_cart_id') }} as cart_id,
        {{ clean_text('source.raw_contact_id') }} as contact_id,
        {{ parse_timestamp('source.raw_created_at', raw_types.get('created_at')) }} as created_at,
        {{ parse_timestamp('source.raw_updated_at', raw_types.get('updated_at')) }} as updated_at,
        {{ parse_decimal('source.raw_value_net') }} as value_net,
        {{ clean_text('source.raw_order_id') }} as order_id,
        {{ raw_columns('carts', 'source') }},
        source._source_file,
        source._source_row
    from source
),

checked as (
    select
        parsed.*,
        {{ dq_first_failure([
            ("parsed.cart_id is null", 'missing_key', 'cart_id'),
            (is_unparseable('parsed.raw_created_at', 'parsed.created_at'), 'unparseable_timestamp', 'created_at'),
            ("parsed.created_at is null", 'missing_required_value', 'created_at'),
            ("parsed.contact_id is not null and contacts.contact_id is null", 'unknown_contact', 'contact_id'),
        ]) }} as dq_failure,
        {{ dq_emptied_columns([
            (is_unparseable('parsed.raw_updated_at', 'parsed.updated_at'), 'updated_at'),
            (is_unparseable('parsed.raw_value_net', 'parsed.value_net'), 'value_net'),
        ]) }} as dq_emptied_columns
    from parsed
    left join contacts
        on parsed.contact_id = contacts.contact_id
),

final as (
    select
        cart_id,
        contact_id,
        created_at,
        updated_at,
        value_net,
        order_id,
        cart_id as record_key,
        {{ dq_columns('carts') }}
    from checked
)

select * from final
