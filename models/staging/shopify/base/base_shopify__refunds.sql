-- Every row of Fivetran's Shopify `refund` table with its amount (the goods refunded, net of tax,
-- in the store currency), its order's contact and its data-quality failure. Read by
-- stg_shopify__refunds (usable rows) and data_quality_issues (the others).
with

source_refunds as (
    select * from {{ shopify_table('refund') }}
),

refund_lines as (
    select * from {{ ref('base_shopify__refund_lines') }}
    where dq_failure is null
),

orders as (
    -- The copy of each order that counts (a dropped duplicate is not the order).
    select * from {{ ref('base_shopify__orders') }}
    where copy_rank = 1 and order_id is not null
),

numbered as (
    select
        source_refunds.*,
        {{ row_as_struct('source_refunds') }} as raw_row,
        cast(row_number() over (
            order by
                source_refunds.id nulls last, source_refunds._fivetran_synced nulls last,
                {{ row_hash('source_refunds') }}
        ) as bigint) as _source_row
    from source_refunds
),

parsed as (
    select
        cast(id as string) as refund_id,
        cast(order_id as string) as order_id,
        -- processed_at is when the money went back; created_at when it was not recorded.
        coalesce(processed_at, created_at) as refunded_at,
        cast(row_number() over (
            partition by id
            order by _fivetran_synced desc nulls last, _source_row desc
        ) as bigint) as copy_rank,
        _source_row,
        raw_row
    from numbered
),

refunded_goods as (
    select
        refund_id,
        sum(subtotal) as subtotal,
        sum(coalesce(total_tax, 0)) as total_tax
    from refund_lines
    group by refund_id
),

checked as (
    select
        parsed.*,
        orders.contact_id,
        orders.exchange_rate,
        -- Net of tax like the order: the tax is taken out when the shop's prices include it.
        coalesce(refunded_goods.subtotal, 0)
        - case when orders.taxes_included then coalesce(refunded_goods.total_tax, 0) else 0 end
            as amount_in_currency,
        {{ dq_first_failure([
            ("parsed.refund_id is null", 'missing_key', 'id'),
            ("parsed.copy_rank > 1", 'duplicate_key', 'id'),
            ("orders.order_id is null", 'unknown_order', 'order_id'),
            ("orders.dq_failure is not null", 'order_rejected', 'order_id'),
            ("orders.status <> 'completed'", 'order_not_completed', 'order_id'),
            ("parsed.refunded_at is null", 'missing_required_value', 'processed_at'),
        ]) }} as dq_failure
    from parsed
    left join orders
        on parsed.order_id = orders.order_id
    left join refunded_goods
        on parsed.refund_id = refunded_goods.refund_id
),

final as (
    select
        refund_id,
        order_id,
        contact_id,
        refunded_at,
        cast(amount_in_currency * exchange_rate as decimal(18, 4)) as amount_net,
        refund_id as record_key,
        dq_failure,
        {{ empty_string_list() }} as dq_emptied_columns,
        {{ shopify_source_name('refund') }} as _source_file,
        _source_row,
        raw_row
    from checked
)

select * from final
