{#- Helpers of the automation models (models/intermediate/automation, models/marts/automation). -#}

{% macro automation_as_of() -%}
    {#- The moment the automation queue is computed as of, as a SQL timestamp literal (UTC): var
        automation_as_of; else the environment variable SEGMENT_AUTOMATION_AS_OF (how the hourly
        schedule passes it, read only when dbt executes, like SEGMENT_AS_OF_DATE); else the end of
        the as-of date (23:59:59.999999), so a build of a past day issues what fell due that day,
        or, when the as-of date is today, the start of the dbt run (run_started_at, UTC). Its UTC
        date must be the as-of date: the segments the queue reads are computed as of that date. -#}
    {%- set raw = var('automation_as_of', none) -%}
    {%- if execute and (raw is none or (raw | string | trim) == '') -%}
        {%- set raw = env_var('SEGMENT_AUTOMATION_AS_OF', '') -%}
    {%- endif -%}
    {%- set day_literal = as_of_date() | trim -%}
    {%- set day = day_literal[6:16] -%}
    {%- if raw is none or (raw | string | trim) == '' -%}
        {#- the end of the as-of date, or the start of this dbt run when that is earlier (a build of
            today issues what is due by now, not what falls due later today) -#}
        {%- set started = run_started_at.strftime('%Y-%m-%d %H:%M:%S') -%}
        {%- if started[:10] == day -%}
            timestamp '{{ started }}'
        {%- else -%}
            timestamp '{{ day }} 23:59:59.999999'
        {%- endif -%}
    {%- else -%}
        {%- set text = raw | string | trim | replace('T', ' ') -%}
        {%- if text.endswith('Z') -%}
            {%- set text = text[:-1] -%}
        {%- endif -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?)?$', text) -%}
            {{ exceptions.raise_compiler_error(
                "var automation_as_of (or SEGMENT_AUTOMATION_AS_OF): '" ~ text ~ "' is not a UTC timestamp; write it as YYYY-MM-DD HH:MM[:SS], e.g. --vars '{automation_as_of: \"2025-06-30 14:00\"}'"
            ) }}
        {%- endif -%}
        {%- if execute and text[:10] != day -%}
            {{ exceptions.raise_compiler_error(
                "var automation_as_of (or SEGMENT_AUTOMATION_AS_OF): " ~ text ~ " is not on the as-of date " ~ day ~ "; set as_of_date to its day (the queue reads the segments of that date)"
            ) }}
        {%- endif -%}
        timestamp '{{ text }}'
    {%- endif -%}
{%- endmacro %}

{% macro automation_step_due_at(trigger_at, delay_hours, delay_days) -%}
    {#- When a step falls due: delay_hours after the trigger, or 00:00 UTC of the day delay_days
        after the trigger's UTC date (seed automation_steps has exactly one of them). -#}
    case
        when {{ delay_days }} is not null
            then cast({{ date_plus_days('cast(' ~ trigger_at ~ ' as date)', 'cast(' ~ delay_days ~ ' as integer)') }} as timestamp)
        else {{ trigger_at }} + {{ hours_interval('cast(' ~ delay_hours ~ ' as bigint)') }}
    end
{%- endmacro %}

{% macro automation_app_channels() -%}
    {#- var automation_app_channels (a list of web event channels, e.g. [app]) as a SQL list of
        strings; a contact with a web event on one of them is a known app user (push). Empty list:
        nobody is, and every push step goes by email. -#}
    {%- set values = var('automation_app_channels', []) or [] -%}
    {%- if values is string -%}
        {%- set values = [values] -%}
    {%- endif -%}
    {%- if values | length == 0 -%}
        null
    {%- else -%}
        {%- for value in values -%}
            {{ sql_string(value) }}{{ ', ' if not loop.last }}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{% macro forget_automation_issued_of_build() -%}
    {#- pre-hook of automation_issued: drop the rows of this build's moment (automation_as_of),
        which it decides again. -#}
    {{ return(adapter.dispatch('forget_automation_issued_of_build', 'segment_warehouse')()) }}
{%- endmacro %}

{% macro default__forget_automation_issued_of_build() -%}
    {#- Spark: the table is partitioned by issued_at; this moment's partition is dropped. -#}
    {%- if is_incremental() -%}
        {{ drop_partitions_statement(this, 'issued_at', [(automation_as_of() | trim)[10:]]) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__forget_automation_issued_of_build() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where issued_at = {{ automation_as_of() }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
