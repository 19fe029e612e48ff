-- Per contact: valid orders and refunds on or before the as-of date, over all history and
-- within the RFM window (var rfm_window_days; empty = all history).
with

orders as (
    select * from {{ ref('int_orders_unioned') }}
),

refunds as (
    select * from {{ ref('int_refunds_unioned') }}
),

orders_as_of as (
    select
        contact_id,
        ordered_at,
        amount_net,
        {{ is_valid_order() }} as is_valid,
        {{ days_since('ordered_at') }} as days_since_order
    from orders
    where cast(ordered_at as date) <= {{ as_of_date() }}
),

orders_per_contact as (
    select
        contact_id,
        count(*) filter (where is_valid) as orders_count,
        min(ordered_at) filter (where is_valid) as first_order_at,
        max(ordered_at) filter (where is_valid) as last_order_at,
        min(days_since_order) filter (where is_valid) as days_since_last_order,
        count(*) filter (where is_valid and {{ in_rfm_window('days_since_order') }}) as rfm_frequency,
        min(ordered_at) filter (where is_valid and {{ in_rfm_window('days_since_order') }})
            as rfm_first_order_at,
        max(ordered_at) filter (where is_valid and {{ in_rfm_window('days_since_order') }})
            as rfm_last_order_at,
        min(days_since_order) filter (where is_valid and {{ in_rfm_window('days_since_order') }})
            as rfm_recency_days,
        sum(amount_net) filter (where is_valid and {{ in_rfm_window('days_since_order') }})
            as rfm_order_amount
    from orders_as_of
    group by contact_id
),

refunds_per_contact as (
    select
        contact_id,
        sum(amount_net) as rfm_refund_amount
    from refunds
    where
        cast(refunded_at as date) <= {{ as_of_date() }}
        and {{ in_rfm_window(days_since('refunded_at')) }}
    group by contact_id
),

aggregated as (
    select
        coalesce(orders_per_contact.contact_id, refunds_per_contact.contact_id) as contact_id,
        orders_per_contact.contact_id is not null as has_order_as_of,
        coalesce(orders_per_contact.orders_count, 0) as orders_count,
        orders_per_contact.first_order_at,
        orders_per_contact.last_order_at,
        orders_per_contact.days_since_last_order,
        coalesce(orders_per_contact.rfm_frequency, 0) as rfm_frequency,
        orders_per_contact.rfm_first_order_at,
        orders_per_contact.rfm_last_order_at,
        orders_per_contact.rfm_recency_days,
        coalesce(orders_per_contact.rfm_order_amount, 0) as rfm_order_amount,
        coalesce(refunds_per_contact.rfm_refund_amount, 0) as rfm_refund_amount
    from orders_per_contact
    full outer join refunds_per_contact
        on orders_per_contact.contact_id = refunds_per_contact.contact_id
),

final as (
    select
        contact_id,
        has_order_as_of,
        cast(orders_count as integer) as orders_count,
        first_order_at,
        last_order_at,
        cast(days_since_last_order as integer) as days_since_last_order,
        cast(rfm_frequency as integer) as rfm_frequency,
        rfm_first_order_at,
        rfm_last_order_at,
        cast(rfm_recency_days as integer) as rfm_recency_days,
        cast(rfm_order_amount as decimal(18, 4)) as rfm_order_amount,
        cast(rfm_refund_amount as decimal(18, 4)) as rfm_refund_amount,
        cast(greatest(rfm_order_amount - rfm_refund_amount, 0) as decimal(18, 4)) as rfm_monetary
    from aggregated
)

select * from final
