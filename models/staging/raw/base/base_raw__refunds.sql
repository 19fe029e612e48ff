{%- set raw_types = raw_column_types('refunds') %}
with

source as (
    {{ read_raw_entity('refunds') }}
),

orders as (
    select
        order_id,
        contact_id
    from {{ ref('stg_raw__orders') }}
),

contacts as (
    select contact_id from {{ ref('stg_raw__contacts') }}
),

parsed as (
    select
        {{ clean_text('source.raw_refund_id') }} as refund_id,
        {{ clean_text('source.raw_order_id') }} as order_id,
        {{ clean_text('source.raw_contact_id') }} as given_contact_id,
        {{ parse_timestamp('source.raw_refunded_at', raw_types.get('refunded_at')) }} as refunded_at,
        {{ parse_decimal('source.raw_amount_net') }} as amount_net,
        {{ raw_columns('refunds', 'source') }},
        source._source_file,
        source._source_row
    from source
),

checked as (
    select
        parsed.*,
        -- The refund's own contact, else the contact of the order it refunds.
        coalesce(parsed.given_contact_id, orders.contact_id) as contact_id,
        {{ dq_first_failure([
            ("parsed.refund_id is null", 'missing_key', 'refund_id'),
            (is_unparseable('parsed.raw_refunded_at', 'parsed.refunded_at'), 'unparseable_timestamp', 'refunded_at'),
            (is_unparseable('parsed.raw_amount_net', 'parsed.amount_net'), 'unparseable_number', 'amount_net'),
            ("parsed.refunded_at is null", 'missing_required_value', 'refunded_at'),
            ("parsed.amount_net is null", 'missing_required_value', 'amount_net'),
            ("parsed.amount_net < 0", 'negative_amount', 'amount_net'),
            ("parsed.order_id is not null and orders.order_id is null and parsed.given_contact_id is null", 'unknown_order', 'order_id'),
            ("coalesce(parsed.given_contact_id, orders.contact_id) is null", 'missing_key', 'contact_id'),
            ("contacts.contact_id is null", 'unknown_contact', 'contact_id'),
        ]) }} as dq_failure,
        {{ dq_emptied_columns([]) }} as dq_emptied_columns
    from parsed
    left join orders
        on parsed.order_id = orders.order_id
    left join contacts
        on coalesce(parsed.given_contact_id, orders.contact_id) = contacts.contact_id
),

final as (
    select
        refund_id,
        order_id,
        contact_id,
        refunded_at,
        amount_net,
        refund_id as record_key,
        {{ dq_columns('refunds') }}
    from checked
)

select * from final
