-- Per contact: nurturing points (SPEC section 5) of the interactions within var score_window_days.
-- Each interaction earns the points of its type (seed nurturing_score_weights: web event types
-- as they are, email opens and clicks as email_open / email_click), halved every
-- var score_half_life_days of age: points * 0.5 ^ (days_since / half_life), days_since in whole
-- UTC days (an interaction on the as-of date keeps all its points), to 9 decimals (summed exactly,
-- so the sums do not depend on the engine or the order). Types the seed does not list
-- earn nothing. The points are summed per type here; the cap and the bands are in customer_scores.
-- The query: macro interactions_scored_to_contacts (macros/as_of_activity.sql), for the as-of date;
-- purchase propensity (SPEC section 10) renders it for an earlier date too.
{{ interactions_scored_to_contacts(as_of_date()) }}
