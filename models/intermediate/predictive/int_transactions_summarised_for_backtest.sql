-- The backtest's customers (SPEC section 10): the purchase history as of the as-of date minus var
-- backtest_horizon_days (the same query as int_transactions_summarised_to_customers, rendered at
-- that date), and what each customer did in the horizon that followed, up to the as-of date:
-- transactions (UTC days with a valid order, as the models count them) and valid orders' revenue.
{%- set horizon = positive_int_var('backtest_horizon_days') | trim | int %}
{%- set fitted_as_of = as_of_date(minus_days=horizon) %}

with

summaries as (
    select * from ({{ transactions_summarised_to_customers(fitted_as_of) }})
),

orders as (
    select * from {{ ref('int_orders_unioned') }}
),

orders_in_horizon as (
    select
        contact_id,
        cast(ordered_at as date) as transaction_date,
        amount_net
    from orders
    where
        {{ is_valid_order() }}
        and cast(ordered_at as date) > {{ fitted_as_of }}
        and cast(ordered_at as date) <= {{ as_of_date() }}
),

actuals as (
    select
        contact_id,
        count(distinct transaction_date) as actual_transactions,
        sum(amount_net) as actual_revenue
    from orders_in_horizon
    group by contact_id
),

final as (
    select
        summaries.contact_id,
        {{ as_of_date() }} as as_of_date,
        summaries.as_of_date as fitted_as_of_date,
        cast({{ horizon }} as integer) as horizon_days,
        summaries.repeat_transactions,
        summaries.t_x_days,
        summaries.t_days,
        summaries.repeat_transaction_mean_amount,
        cast(coalesce(actuals.actual_transactions, 0) as integer) as actual_transactions,
        cast(coalesce(actuals.actual_revenue, 0) as decimal(18, 4)) as actual_revenue
    from summaries
    left join actuals
        on summaries.contact_id = actuals.contact_id
)

select * from final
