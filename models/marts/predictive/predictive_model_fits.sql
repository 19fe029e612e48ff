-- One row per model (bg_nbd, gamma_gamma, purchase_propensity) of the as-of date: the
-- maximum-likelihood parameters, the log-likelihood, how many customers the model was fitted on and
-- whether it converged (SPEC section 10). Fitted in int_predictive_models_fitted (Python, scipy) and
-- int_purchase_propensity_fitted (scikit-learn: the classifier's AUC on held-out contacts).
with

likelihood_fits as (
    select * from {{ ref('int_predictive_models_fitted') }}
),

propensity_fit as (
    select * from {{ ref('int_purchase_propensity_fitted') }}
),

fits as (
    select
        *,
        cast(null as double) as auc
    from likelihood_fits

    union all by name

    select
        model_name,
        cast(null as varchar) as time_unit,
        status,
        customers,
        converged,
        iterations,
        message,
        auc
    from propensity_fit
),

final as (
    select
        {{ as_of_date() }} as as_of_date,
        cast(fits.model_name as varchar) as model_name,
        cast(fits.status as varchar) as fit_status,
        cast(fits.time_unit as varchar) as time_unit,
        cast(fits.customers as integer) as customers,
        cast(fits.r as double) as r,
        cast(fits.alpha as double) as alpha,
        cast(fits.a as double) as a,
        cast(fits.b as double) as b,
        cast(fits.p as double) as p,
        cast(fits.q as double) as q,
        cast(fits.gamma as double) as gamma,
        cast(fits.log_likelihood as double) as log_likelihood,
        cast(fits.converged as boolean) as converged,
        cast(fits.iterations as integer) as iterations,
        cast(fits.message as varchar) as fit_message,
        cast(fits.auc as double) as auc
    from fits
)

select * from final
