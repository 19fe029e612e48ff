-- Cancellation invoices (C...): a refund of the (negative) invoice amount, at its time.
with

lines as (
    select * from {{ ref('stg_online_retail__lines') }}
    where invoice_kind = 'cancellation'
),

refunds as (
    select
        invoice_no as refund_id,
        any_value(contact_id) as contact_id,
        min(invoiced_at) as refunded_at,
        cast(-sum(line_amount) as decimal(38, 4)) as amount_net
    from lines
    group by invoice_no
)

select * from refunds
