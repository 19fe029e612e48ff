-- The entries of the cart scenario (SPEC section 7): each cart of an existing contact created at or
-- before automation_as_of whose contact had no valid order in the
-- automation_cart_min_days_since_order (15) days before the cart's date (or none), with the valid
-- orders before it (how many, days since the last, its net amount) and the first valid order at or
-- after it (the exit). Entered at the cart.
with

contacts as (
    select * from {{ ref('int_contacts_filtered_to_as_of') }}
),

carts as (
    -- The usable rows (macros/data_quality.sql)
    {{ usable_rows('stg_raw__carts') }}
),

valid_orders as (
    select * from {{ ref('int_automation_orders_sequenced') }}
),

known_carts as (
    select
        carts.cart_id,
        carts.contact_id,
        carts.created_at
    from carts
    inner join contacts
        on carts.contact_id = contacts.contact_id
    where carts.created_at <= {{ automation_as_of() }}
),

carts_with_orders as (
    select
        known_carts.cart_id,
        known_carts.contact_id,
        known_carts.created_at,
        count(valid_orders.order_id) filter (
            where valid_orders.ordered_at < known_carts.created_at
        ) as orders_before,
        max(valid_orders.ordered_at) filter (
            where valid_orders.ordered_at < known_carts.created_at
        ) as last_order_at,
        max_by(valid_orders.amount_net, valid_orders.order_number) filter (
            where valid_orders.ordered_at < known_carts.created_at
        ) as last_order_net,
        min(valid_orders.ordered_at) filter (
            where valid_orders.ordered_at >= known_carts.created_at
        ) as next_order_at
    from known_carts
    left join valid_orders
        on known_carts.contact_id = valid_orders.contact_id
    group by known_carts.cart_id, known_carts.contact_id, known_carts.created_at
),

final as (
    select
        contact_id,
        'cart' as scenario,
        'cart_created' as trigger_type,
        cart_id as trigger_id,
        created_at as trigger_at,
        created_at as entered_at,
        cast(orders_before as integer) as orders_count_at_trigger,
        cast({{ days_between('cast(last_order_at as date)', 'cast(created_at as date)') }} as integer)
            as days_since_order_at_trigger,
        cast(last_order_net as decimal(18, 4)) as last_order_net_at_trigger,
        next_order_at as exited_at,
        case when next_order_at is not null then 'ordered' end as exit_reason
    from carts_with_orders
    where
        last_order_at is null
        or {{ days_between('cast(last_order_at as date)', 'cast(created_at as date)') }}
        >= {{ int_var('automation_cart_min_days_since_order') }}
)

select * from final
