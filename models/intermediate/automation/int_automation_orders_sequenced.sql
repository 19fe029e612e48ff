-- The valid orders of the existing contacts placed at or before automation_as_of, numbered per
-- contact (by time, then order_id) with the time of the contact's next one: what the automation
-- scenarios count and measure (SPEC section 7).
with

contacts as (
    select * from {{ ref('int_contacts_filtered_to_as_of') }}
),

orders as (
    select * from {{ ref('int_orders_unioned') }}
),

valid_orders as (
    select
        orders.order_id,
        orders.contact_id,
        orders.ordered_at,
        orders.amount_net
    from orders
    inner join contacts
        on orders.contact_id = contacts.contact_id
    where
        {{ is_valid_order() }}
        and orders.ordered_at <= {{ automation_as_of() }}
),

numbered as (
    select
        *,
        row_number() over (partition by contact_id order by ordered_at, order_id) as order_number
    from valid_orders
),

final as (
    select
        order_id,
        contact_id,
        ordered_at,
        cast(amount_net as decimal(18, 4)) as amount_net,
        cast(order_number as integer) as order_number,
        lead(ordered_at) over (partition by contact_id order by order_number) as next_order_at
    from numbered
)

select * from final
