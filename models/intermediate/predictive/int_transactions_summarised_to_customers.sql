-- Per customer: the purchase history the predictive models read (SPEC section 10), from valid
-- orders on or before the as-of date (within var predictive_fit_window_days when set). Orders on
-- the same UTC day are one transaction, their amounts summed; time is in whole days.
-- The query: macro transactions_summarised_to_customers (macros/as_of_state.sql), for the as-of date;
-- purchase propensity (SPEC section 10) renders it for an earlier date too.
{{ transactions_summarised_to_customers(as_of_date()) }}
