-- One completed order per invoice: its earliest line time, the sum of its lines.
with

lines as (
    select * from {{ ref('stg_online_retail__lines') }}
    where invoice_kind = 'order'
),

orders as (
    select
        invoice_no as order_id,
        any_value(contact_id) as contact_id,
        min(invoiced_at) as ordered_at,
        'completed' as status,
        cast(sum(line_amount) as decimal(38, 4)) as amount_net
    from lines
    group by invoice_no
)

select * from orders
