-- The contacts that exist as of the date, with their order metrics. A contact exists when it was
-- created on or before the as-of date (or has no creation date), or has an order by then.
-- The query: macro contacts_filtered_to_as_of (macros/as_of_state.sql), for the as-of date;
-- purchase propensity (SPEC section 10) renders it for an earlier date too.
{{ contacts_filtered_to_as_of(as_of_date(), ref('int_orders_aggregated_to_contacts')) }}
