{#- Contacts, orders and transactions as of a date: the queries of the intermediate models that read
    them, as macros taking the as-of date as a SQL expression, so that a build renders the same rules at
    another date too (purchase propensity's training state, the backtest's fit). -#}

{% macro orders_aggregated_to_contacts(as_of) -%}
    {#- The query of int_orders_aggregated_to_contacts for the as-of date `as_of` (a SQL date expression).
        Per contact: valid orders and refunds on or before the as-of date, over all history and
        within the RFM window (var rfm_window_days; empty = all history). -#}
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
        {{ days_since('ordered_at', as_of) }} as days_since_order
    from orders
    where cast(ordered_at as date) <= {{ as_of }}
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
        cast(refunded_at as date) <= {{ as_of }}
        and {{ in_rfm_window(days_since('refunded_at', as_of)) }}
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
{%- endmacro %}

{% macro contacts_filtered_to_as_of(as_of, order_metrics) -%}
    {#- The query of int_contacts_filtered_to_as_of for the as-of date `as_of` (a SQL date expression).
        The contacts that exist as of the date, with their order metrics. A contact exists when it was
        created on or before the as-of date (or has no creation date), or has an order by then. -#}
with

contacts as (
    select * from {{ ref('int_contacts_unioned') }}
),

order_metrics as (
    select * from {{ order_metrics }}
),

orders_any_status as (
    select distinct contact_id
    from {{ ref('int_orders_unioned') }}
    where cast(ordered_at as date) <= {{ as_of }}
),

existing as (
    select
        contacts.contact_id,
        contacts.email,
        contacts.first_name,
        contacts.last_name,
        contacts.created_at,
        -- Only what happened on or before the as-of date exists.
        case
            when cast(contacts.subscribed_at as date) <= {{ as_of }} then contacts.subscribed_at
        end as subscribed_at,
        case
            when cast(contacts.unsubscribed_at as date) <= {{ as_of }} then contacts.unsubscribed_at
        end as unsubscribed_at,
        contacts.email_consent,
        contacts.sms_consent,
        contacts.birth_date,
        contacts.gender,
        contacts.city,
        contacts.region,
        contacts.country_code,
        contacts.country_name,
        contacts.postal_code,
        contacts.latitude,
        contacts.longitude,
        contacts.acquisition_source
    from contacts
    left join orders_any_status
        on contacts.contact_id = orders_any_status.contact_id
    where
        contacts.created_at is null
        or cast(contacts.created_at as date) <= {{ as_of }}
        or orders_any_status.contact_id is not null
),

final as (
    select
        existing.*,
        {{ as_of }} as as_of_date,
        coalesce(order_metrics.orders_count, 0) as orders_count,
        order_metrics.first_order_at,
        order_metrics.last_order_at,
        order_metrics.days_since_last_order,
        coalesce(order_metrics.rfm_frequency, 0) as rfm_frequency,
        order_metrics.rfm_first_order_at,
        order_metrics.rfm_last_order_at,
        order_metrics.rfm_recency_days,
        coalesce(order_metrics.rfm_monetary, 0) as rfm_monetary,
        coalesce(order_metrics.orders_count, 0) > 0 as is_customer
    from existing
    left join order_metrics
        on existing.contact_id = order_metrics.contact_id
)

select * from final
{%- endmacro %}

{% macro transactions_summarised_to_customers(as_of) -%}
    {#- The query of int_transactions_summarised_to_customers for the as-of date `as_of` (a SQL date expression).
        Per customer: the purchase history the predictive models read (SPEC section 10), from valid
        orders on or before the as-of date (within var predictive_fit_window_days when set). Orders on
        the same UTC day are one transaction, their amounts summed; time is in whole days. -#}
with

orders as (
    select * from {{ ref('int_orders_unioned') }}
),

valid_orders_as_of as (
    select
        contact_id,
        cast(ordered_at as date) as transaction_date,
        amount_net
    from orders
    where
        {{ is_valid_order() }}
        and cast(ordered_at as date) <= {{ as_of }}
        and {{ in_predictive_fit_window(days_since('ordered_at', as_of)) }}
),

transactions as (
    select
        contact_id,
        transaction_date,
        sum(amount_net) as transaction_amount
    from valid_orders_as_of
    group by contact_id, transaction_date
),

transactions_numbered as (
    select
        contact_id,
        transaction_date,
        transaction_amount,
        row_number() over (partition by contact_id order by transaction_date) as transaction_number
    from transactions
),

summarised as (
    select
        contact_id,
        count(*) as transactions_count,
        min(transaction_date) as first_transaction_date,
        max(transaction_date) as last_transaction_date,
        sum(transaction_amount) as total_amount,
        avg(transaction_amount) filter (where transaction_number > 1) as repeat_transaction_mean_amount
    from transactions_numbered
    group by contact_id
),

final as (
    select
        contact_id,
        {{ as_of }} as as_of_date,
        first_transaction_date,
        last_transaction_date,
        cast(transactions_count as integer) as transactions_count,
        cast(transactions_count - 1 as integer) as repeat_transactions,
        cast({{ days_between('first_transaction_date', 'last_transaction_date') }} as integer) as t_x_days,
        cast({{ days_between('first_transaction_date', as_of) }} as integer) as t_days,
        cast(total_amount as decimal(18, 4)) as total_amount,
        cast(repeat_transaction_mean_amount as double) as repeat_transaction_mean_amount
    from summarised
)

select * from final
{%- endmacro %}
