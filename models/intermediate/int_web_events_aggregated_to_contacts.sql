-- Per contact: site behaviour, in one scan of the web events filtered to the longest window.
-- Within var behaviour_window_days: sessions (distinct session_id), distinct products viewed
-- (product_view events), time on site (sum of duration_seconds). Within var funnel_window_days:
-- which funnel steps were reached (any event = visited; product_view; add_to_cart, or a cart
-- created then; checkout_started). Anonymous events (no contact_id) are not anyone's.
-- The query: macro web_events_aggregated_to_contacts (macros/as_of_activity.sql), for the as-of date;
-- purchase propensity (SPEC section 10) renders it for an earlier date too.
{{ web_events_aggregated_to_contacts(as_of_date()) }}
