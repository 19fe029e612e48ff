-- Entries and exits between consecutive as-of dates of segment_membership_history: a contact
-- entered a segment on a date when it is in it that day but was not on the previous built date,
-- and exited when it was in it on the previous built date but is not that day.
-- Incremental: a build as of D recomputes the changes of D (against the built date before it) and
-- of the built date just after D (against D), which a backfill of D changes; the other days keep
-- their rows. A first build or --full-refresh computes every pair of consecutive dates.
-- On Spark the table is partitioned by as_of_date and the pre-hook drops the two partitions.
-- The two dates of a pair are matched by one full outer join on (contact, family, segment): a row of
-- the later date without a match is an entry, one of the earlier date an exit (instead of an anti
-- join each way). In a family with one segment per contact a move from A to B is the exit from A and
-- the entry into B; in custom and static, where a contact may be in several segments, each segment
-- enters and exits on its own.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        partition_by=(none if target.type == 'duckdb' else ['as_of_date']),
        on_schema_change='fail',
        pre_hook="{{ forget_membership_changes_of_build() }}",
    )
}}

with

built_dates as (
    select distinct history.as_of_date
    from {{ ref('segment_membership_history') }} as history
),

consecutive_dates as (
    select
        built_dates.as_of_date,
        lag(built_dates.as_of_date) over (order by built_dates.as_of_date) as previous_as_of_date
    from built_dates
),

date_pairs as (
    select
        consecutive_dates.as_of_date,
        consecutive_dates.previous_as_of_date
    from consecutive_dates
    where
        consecutive_dates.previous_as_of_date is not null
        {%- if is_incremental() %}
        and {{ as_of_date() }} in (consecutive_dates.as_of_date, consecutive_dates.previous_as_of_date)
        {%- endif %}
),

current_memberships as (
    select
        date_pairs.as_of_date,
        date_pairs.previous_as_of_date,
        history.contact_id,
        history.segment_family,
        history.segment,
        history.segment_key
    from date_pairs
    inner join {{ ref('segment_membership_history') }} as history
        on date_pairs.as_of_date = history.as_of_date
),

previous_memberships as (
    select
        date_pairs.as_of_date,
        date_pairs.previous_as_of_date,
        history.contact_id,
        history.segment_family,
        history.segment,
        history.segment_key
    from date_pairs
    inner join {{ ref('segment_membership_history') }} as history
        on date_pairs.previous_as_of_date = history.as_of_date
),

compared as (
    -- the (contact, family, segment) rows present on one date of the pair only
    select
        coalesce(current_memberships.as_of_date, previous_memberships.as_of_date) as as_of_date,
        coalesce(
            current_memberships.previous_as_of_date, previous_memberships.previous_as_of_date
        ) as previous_as_of_date,
        coalesce(current_memberships.contact_id, previous_memberships.contact_id) as contact_id,
        coalesce(current_memberships.segment_family, previous_memberships.segment_family) as segment_family,
        current_memberships.segment as current_segment,
        current_memberships.segment_key as current_segment_key,
        previous_memberships.segment as previous_segment,
        previous_memberships.segment_key as previous_segment_key
    from current_memberships
    full outer join previous_memberships
        on
            current_memberships.as_of_date = previous_memberships.as_of_date
            and current_memberships.contact_id = previous_memberships.contact_id
            and current_memberships.segment_family = previous_memberships.segment_family
            and current_memberships.segment = previous_memberships.segment
    where current_memberships.segment is null or previous_memberships.segment is null
),

entries as (
    select
        as_of_date,
        previous_as_of_date,
        contact_id,
        segment_family,
        current_segment as segment,
        current_segment_key as segment_key,
        'entered' as change_type
    from compared
    where current_segment is not null
),

exits as (
    select
        as_of_date,
        previous_as_of_date,
        contact_id,
        segment_family,
        previous_segment as segment,
        previous_segment_key as segment_key,
        'exited' as change_type
    from compared
    where previous_segment is not null
),

final as (
    select * from entries
    union all
    select * from exits
)

select * from final
