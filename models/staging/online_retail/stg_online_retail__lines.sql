-- Invoice lines of the Online Retail file that can be used: orders and cancellations.
with

checked as (
    select * from {{ ref('base_online_retail__lines') }}
),

usable as (
    select
        invoice_no,
        invoice_kind,
        contact_id,
        invoiced_at,
        stock_code,
        description,
        quantity,
        unit_price,
        line_amount,
        country,
        _source_row as source_row
    from checked
    where dq_failure is null
)

select * from usable
