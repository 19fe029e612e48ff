-- Entries and exits between consecutive as-of dates of segment_membership_history: a contact
-- entered a segment on a date when it is in it that day but was not on the previous built date,
-- and exited when it was in it on the previous built date but is not that day.
-- Incremental: a build as of D recomputes the changes of D (against the built date before it) and
-- of the built date just after D (against D), which a backfill of D changes; the other days keep
-- their rows. A first build or --full-refresh computes every pair of consecutive dates.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ forget_membership_changes_of_build() }}",
    )
}}

with

history as (
    select * from {{ ref('segment_membership_history') }}
),

built_dates as (
    select distinct history.as_of_date
    from history
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
    inner join history
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
    inner join history
        on date_pairs.previous_as_of_date = history.as_of_date
),

entries as (
    select
        current_memberships.as_of_date,
        current_memberships.previous_as_of_date,
        current_memberships.contact_id,
        current_memberships.segment_family,
        current_memberships.segment,
        current_memberships.segment_key,
        'entered' as change_type
    from current_memberships
    left join previous_memberships
        on
            current_memberships.as_of_date = previous_memberships.as_of_date
            and current_memberships.contact_id = previous_memberships.contact_id
            and current_memberships.segment_family = previous_memberships.segment_family
            and current_memberships.segment = previous_memberships.segment
    where previous_memberships.contact_id is null
),

exits as (
    select
        previous_memberships.as_of_date,
        previous_memberships.previous_as_of_date,
        previous_memberships.contact_id,
        previous_memberships.segment_family,
        previous_memberships.segment,
        previous_memberships.segment_key,
        'exited' as change_type
    from previous_memberships
    left join current_memberships
        on
            previous_memberships.as_of_date = current_memberships.as_of_date
            and previous_memberships.contact_id = current_memberships.contact_id
            and previous_memberships.segment_family = current_memberships.segment_family
            and previous_memberships.segment = current_memberships.segment
    where current_memberships.contact_id is null
),

final as (
    select * from entries
    union all
    select * from exits
)

select * from final
