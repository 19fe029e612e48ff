-- Per contact: valid orders and refunds on or before the as-of date, over all history and
-- within the RFM window (var rfm_window_days; empty = all history).
-- The query: macro orders_aggregated_to_contacts (macros/as_of_state.sql), for the as-of date;
-- purchase propensity (SPEC section 10) renders it for an earlier date too.
{{ orders_aggregated_to_contacts(as_of_date()) }}
