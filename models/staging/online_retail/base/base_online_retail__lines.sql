-- Every line of the Online Retail file(s) as segment-warehouse-land landed them (every value as
-- text, either layout), parsed and tagged with its data-quality failure.
with

source as {{ not_materialized() }} (
    -- Not materialized: date_order reads it again, as a reader of its own.
    select
        invoice_no,
        stock_code,
        description,
        quantity,
        invoice_date,
        unit_price,
        customer_id,
        country,
        _source_file,
        _source_row
    from {{ online_retail_lines() }} as landed
),

date_order as (
    -- Text dates are month-first (US) unless one starts with a number above 12 (day-first): one
    -- choice for all the files together (a glob of both sheets of Online Retail II).
    select
        coalesce(
            bool_or(
                try_cast(
                    regexp_extract(invoice_date, {{ regex_literal('^\s*([0-9]{1,2})[/.-]') }}, 1) as integer
                ) > 12
            ),
            false
        ) as is_day_first
    from source
),

parsed as (
    select
        upper({{ clean_text('source.invoice_no') }}) as invoice_no,
        {{ clean_text('source.stock_code') }} as stock_code,
        {{ clean_text('source.description') }} as description,
        {{ parse_decimal('source.quantity', 18, 4) }} as quantity,
        {{ parse_online_retail_date('source.invoice_date', '(select is_day_first from date_order)') }}
            as invoiced_at,
        {{ parse_decimal('source.unit_price', 18, 4) }} as unit_price,
        -- Customer numbers arrive as 17850, 17850.0 or '17850': written as an integer.
        cast(cast({{ parse_double('source.customer_id') }} as bigint) as string) as contact_id,
        {{ clean_text('source.country') }} as country,
        source._source_file,
        source._source_row,
        {{ row_as_struct('source') }} as raw_row,
        -- Exact duplicates: all eight columns equal; the first row in the file is kept.
        cast(row_number() over (
            partition by
                source.invoice_no, source.stock_code, source.description, source.quantity,
                source.invoice_date, source.unit_price, source.customer_id, source.country
            order by source._source_file, source._source_row
        ) as bigint) as copy_number
    from source
),

line_checked as (
    select
        *,
        {{ dq_first_failure([
            ("copy_number > 1", 'duplicate_row', 'all columns'),
            ("raw_row.customer_id is null or trim(raw_row.customer_id) = ''", 'missing_customer_id', 'customer_id'),
            (is_unparseable('raw_row.customer_id', 'contact_id'), 'unparseable_number', 'customer_id'),
            ("invoice_no is null", 'missing_key', 'invoice_no'),
            (is_unparseable('raw_row.invoice_date', 'invoiced_at'), 'unparseable_timestamp', 'invoice_date'),
            (is_unparseable('raw_row.quantity', 'quantity'), 'unparseable_number', 'quantity'),
            (is_unparseable('raw_row.unit_price', 'unit_price'), 'unparseable_number', 'unit_price'),
            ("invoiced_at is null", 'missing_required_value', 'invoice_date'),
            ("quantity is null", 'missing_required_value', 'quantity'),
            ("unit_price is null", 'missing_required_value', 'unit_price'),
        ]) }} as line_failure,
        cast(parsed.quantity * parsed.unit_price as decimal(18, 4)) as line_amount,
        case
            when parsed.invoice_no like 'C%' then 'cancellation'
            when parsed.invoice_no like 'A%' then 'adjustment'
            else 'order'
        end as invoice_kind
    from parsed
),

invoices as (
    select
        invoice_no,
        cast(sum(line_amount) as decimal(38, 4)) as invoice_amount
    from line_checked
    where line_failure is null
    group by invoice_no
),

checked as (
    select
        line_checked.*,
        invoices.invoice_amount,
        coalesce(
            line_checked.line_failure,
            {{ dq_first_failure([
                ("line_checked.invoice_kind = 'adjustment'", 'adjustment', 'invoice_no'),
                ("line_checked.invoice_kind = 'order' and invoices.invoice_amount <= 0", 'non_positive_invoice', 'invoice_no'),
                ("line_checked.invoice_kind = 'cancellation' and invoices.invoice_amount >= 0", 'non_negative_cancellation', 'invoice_no'),
            ]) }}
        ) as dq_failure
    from line_checked
    left join invoices
        on line_checked.invoice_no = invoices.invoice_no
),

final as (
    select
        invoice_no,
        stock_code,
        description,
        quantity,
        unit_price,
        line_amount,
        invoice_amount,
        invoiced_at,
        contact_id,
        country,
        invoice_kind,
        -- Lines that can be attributed to a customer, whatever their invoice's fate.
        line_failure is null as is_attributable,
        coalesce(invoice_no, '') || ' line ' || _source_row as record_key,
        dq_failure,
        {{ empty_string_list() }} as dq_emptied_columns,
        _source_file,
        _source_row,
        raw_row
    from checked
)

select * from final
