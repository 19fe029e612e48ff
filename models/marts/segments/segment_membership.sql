-- One row per (contact, segment family, segment) as of the date: what activation pushes.
-- The rows come from macros/membership.sql (segment_membership_rows), which
-- segment_membership_history shares.
{{ segment_membership_rows(ref('customer_segments')) }}
