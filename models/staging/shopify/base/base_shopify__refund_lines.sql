-- Every row of Fivetran's Shopify `order_line_refund` table (the goods refunded by a refund) with
-- its data-quality failure. base_shopify__refunds sums the usable lines of each refund;
-- data_quality_issues keeps the others.
with

source_refund_lines as (
    select * from {{ shopify_table('order_line_refund') }}
),

refunds as (
    select distinct id as refund_id from {{ shopify_table('refund') }}
),

numbered as (
    select
        source_refund_lines.*,
        {{ row_as_struct('source_refund_lines') }} as raw_row,
        cast(row_number() over (
            order by
                source_refund_lines.id nulls last, source_refund_lines._fivetran_synced nulls last,
                {{ row_hash('source_refund_lines') }}
        ) as bigint) as _source_row
    from source_refund_lines
),

parsed as (
    select
        cast(numbered.id as string) as refund_line_id,
        numbered.refund_id,
        cast(numbered.subtotal as decimal(18, 4)) as subtotal,
        cast(numbered.total_tax as decimal(18, 4)) as total_tax,
        cast(row_number() over (
            partition by numbered.id
            order by numbered._fivetran_synced desc nulls last, numbered._source_row desc
        ) as bigint) as copy_rank,
        refunds.refund_id is not null as has_refund,
        numbered._source_row,
        numbered.raw_row
    from numbered
    left join refunds
        on numbered.refund_id = refunds.refund_id
),

final as (
    select
        refund_line_id,
        cast(refund_id as string) as refund_id,
        subtotal,
        total_tax,
        refund_line_id as record_key,
        {{ dq_first_failure([
            ("refund_line_id is null", 'missing_key', 'id'),
            ("copy_rank > 1", 'duplicate_key', 'id'),
            ("refund_id is null", 'missing_required_value', 'refund_id'),
            ("not has_refund", 'unknown_refund', 'refund_id'),
            ("subtotal is null", 'missing_required_value', 'subtotal'),
            ("subtotal < 0", 'negative_amount', 'subtotal'),
        ]) }} as dq_failure,
        {{ empty_string_list() }} as dq_emptied_columns,
        {{ shopify_source_name('order_line_refund') }} as _source_file,
        _source_row,
        raw_row
    from parsed
)

select * from final
