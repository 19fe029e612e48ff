-- How far off the predictive models were (SPEC section 10), per as-of date D: one row per decile of
-- prediction and one total row (decile null).
-- Orders and revenue: BG/NBD and Gamma-Gamma fitted as of D - var backtest_horizon_days on the
-- transactions up to then (int_backtest_customers_predicted), each customer's expected transactions
-- and revenue over the horizon against what happened by D. Deciles of the customers by predicted
-- transactions, descending (ties in contact_id order): decile = 1 + floor(10 * (row - 1) / N).
-- Purchase propensity: the classifier's held-out contacts (trained as of D - var
-- propensity_horizon_days, int_contacts_scored_propensity), deciles by propensity the same way, mean
-- predicted propensity against the share that did order; and its AUC (int_purchase_propensity_fitted).
-- Error in % = 100 * (predicted - actual) / actual (null when nothing happened).
{%- set horizon = positive_int_var('backtest_horizon_days') | trim | int %}

with

customers as (
    select * from {{ ref('int_backtest_customers_predicted') }}
),

held_out as (
    select * from {{ ref('int_contacts_scored_propensity') }}
    where feature_state = 'training' and is_holdout
),

propensity_fit as (
    select * from {{ ref('int_purchase_propensity_fitted') }}
),

customer_deciles as (
    select
        *,
        {{ decile('predicted_transactions desc, contact_id asc') }} as decile
    from customers
),

contact_deciles as (
    select
        *,
        {{ decile('purchase_propensity desc, contact_id asc') }} as decile
    from held_out
),

orders_by_decile as (
    select
        decile,
        count(*) as customers,
        sum(predicted_transactions) as predicted_orders,
        sum(actual_transactions) as actual_orders,
        sum(predicted_revenue) as predicted_revenue,
        sum(actual_revenue) as actual_revenue
    from customer_deciles
    group by decile

    union all

    -- the total row (decile null): every customer, one row even when there are none
    select
        cast(null as integer) as decile,
        count(*) as customers,
        sum(predicted_transactions) as predicted_orders,
        sum(actual_transactions) as actual_orders,
        sum(predicted_revenue) as predicted_revenue,
        sum(actual_revenue) as actual_revenue
    from customer_deciles
),

propensity_by_decile as (
    select
        decile,
        count(*) as propensity_contacts,
        avg(purchase_propensity) as mean_predicted_propensity,
        avg(cast(has_order_in_horizon as integer)) as observed_purchase_rate
    from contact_deciles
    group by decile

    union all

    select
        cast(null as integer) as decile,
        count(*) as propensity_contacts,
        avg(purchase_propensity) as mean_predicted_propensity,
        avg(cast(has_order_in_horizon as integer)) as observed_purchase_rate
    from contact_deciles
),

deciles as (
    select decile from orders_by_decile
    union
    select decile from propensity_by_decile
),

final as (
    select
        {{ as_of_date() }} as as_of_date,
        {{ as_of_date(minus_days=horizon) }} as fitted_as_of_date,
        cast({{ horizon }} as integer) as horizon_days,
        cast(deciles.decile as integer) as decile,
        cast(coalesce(orders_by_decile.customers, 0) as integer) as customers,
        cast(orders_by_decile.predicted_orders as double) as predicted_orders,
        cast(orders_by_decile.actual_orders as integer) as actual_orders,
        cast(
            100 * (orders_by_decile.predicted_orders - orders_by_decile.actual_orders)
            / nullif(orders_by_decile.actual_orders, 0) as double
        ) as orders_error_pct,
        cast(orders_by_decile.predicted_revenue as double) as predicted_revenue,
        cast(orders_by_decile.actual_revenue as double) as actual_revenue,
        cast(
            100 * (orders_by_decile.predicted_revenue - orders_by_decile.actual_revenue)
            / nullif(orders_by_decile.actual_revenue, 0) as double
        ) as revenue_error_pct,
        cast(coalesce(propensity_by_decile.propensity_contacts, 0) as integer) as propensity_contacts,
        cast(propensity_by_decile.mean_predicted_propensity as double) as mean_predicted_propensity,
        cast(propensity_by_decile.observed_purchase_rate as double) as observed_purchase_rate,
        cast((select max(propensity_fit.auc) from propensity_fit) as double) as propensity_auc
    from deciles
    left join orders_by_decile
        on deciles.decile is not distinct from orders_by_decile.decile
    left join propensity_by_decile
        on deciles.decile is not distinct from propensity_by_decile.decile
)

select * from final
