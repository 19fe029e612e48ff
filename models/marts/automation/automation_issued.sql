-- The ledger of issued automation steps: one row per (contact, scenario, step, trigger), written by
-- the build whose queue first held it, so a step is issued once (SPEC section 7). Each build adds
-- the steps due in its window (int_automation_steps_scheduled) that no rule held back, that no
-- build of another moment issued, and that fit the daily cap: at most
-- automation_max_messages_per_day per contact and UTC day, counting what earlier builds of that day
-- issued; the candidates of a contact are taken by scenario priority, then due time, scenario,
-- step and trigger.
-- Only rows issued before this build's automation_as_of count as issued, so a build of a past
-- moment (a backfill) makes the decisions it made then; a rerun of the same moment replaces that
-- moment's rows (pre-hook, as segment_membership_history replaces its day), so the ledger is what
-- a build from scratch of the same moments gives. Rows of other moments are never changed.
-- On Spark (Parquet tables take no DELETE) the table is partitioned by issued_at and the pre-hook
-- drops this moment's partition.
-- full_refresh=false: `dbt build --full-refresh` keeps the ledger; drop the table by hand to start
-- it over.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        partition_by=(none if target.type == 'duckdb' else ['issued_at']),
        on_schema_change='fail',
        full_refresh=false,
        pre_hook="{{ forget_automation_issued_of_build() }}",
    )
}}

with

scheduled as (
    select * from {{ ref('int_automation_steps_scheduled') }}
),

{% if is_incremental() %}
ledger as (
    select
        contact_id,
        scenario,
        step,
        trigger_id,
        issued_at
    from {{ this }}
),
{% else %}
ledger as (
    select
        cast(null as string) as contact_id,
        cast(null as string) as scenario,
        cast(null as integer) as step,
        cast(null as string) as trigger_id,
        cast(null as timestamp) as issued_at
    where false
),
{% endif %}

issued_before as (
    select *
    from ledger
    where issued_at < {{ automation_as_of() }}
),

issued_earlier_today as (
    select
        contact_id,
        count(*) as issued_count
    from issued_before
    where cast(issued_at as date) = cast({{ automation_as_of() }} as date)
    group by contact_id
),

candidates as (
    select scheduled.*
    from scheduled
    where
        scheduled.held_rule is null
        and not exists (
            select 1
            from issued_before
            where
                issued_before.contact_id = scheduled.contact_id
                and issued_before.scenario = scheduled.scenario
                and issued_before.step = scheduled.step
                and issued_before.trigger_id = scheduled.trigger_id
        )
),

ranked as (
    select
        candidates.*,
        coalesce(issued_earlier_today.issued_count, 0)
        + row_number() over (
            partition by candidates.contact_id
            order by
                candidates.priority, candidates.due_at, candidates.scenario, candidates.step,
                candidates.trigger_id
        ) as message_of_day
    from candidates
    left join issued_earlier_today
        on candidates.contact_id = issued_earlier_today.contact_id
),

new_rows as (
    select *
    from ranked
    where
        message_of_day <= {{ int_var('automation_max_messages_per_day') }}
        and not exists (
            select 1
            from ledger
            where
                ledger.contact_id = ranked.contact_id
                and ledger.scenario = ranked.scenario
                and ledger.step = ranked.step
                and ledger.trigger_id = ranked.trigger_id
        )
),

final as (
    select
        contact_id,
        scenario,
        step,
        trigger_id,
        due_at,
        channel,
        planned_channel,
        channel_note,
        template_key,
        discount_pct,
        valid_until,
        automation_as_of as issued_at,
        cast(automation_as_of as date) as issued_date
    from new_rows
)

select * from final
