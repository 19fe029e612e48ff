{#-
    Engine differences met by the intermediate models (and the macros they render: as_of_state.sql,
    as_of_activity.sql, vars.sql, automation.sql). Each dispatches to a duckdb__ implementation that
    returns the SQL DuckDB ran before, and a default__ one for Spark (macros/engine.sql).
-#}

{% macro days_interval(days) -%}
    {#- An interval of `days` whole days, to add to or subtract from a date or timestamp. -#}
    {{ return(adapter.dispatch('days_interval', 'segment_warehouse')(days)) }}
{%- endmacro %}

{% macro duckdb__days_interval(days) -%}to_days({{ days }}){%- endmacro %}

{% macro default__days_interval(days) -%}(({{ days }}) * interval 1 day){%- endmacro %}

{% macro hours_interval(hours) -%}
    {#- An interval of `hours` whole hours, to add to or subtract from a timestamp. -#}
    {{ return(adapter.dispatch('hours_interval', 'segment_warehouse')(hours)) }}
{%- endmacro %}

{% macro duckdb__hours_interval(hours) -%}to_hours({{ hours }}){%- endmacro %}

{% macro default__hours_interval(hours) -%}(({{ hours }}) * interval 1 hour){%- endmacro %}

{% macro date_plus_days(date_expression, days) -%}
    {#- The date `days` (a whole number) days after a date: a date. -#}
    {{ return(adapter.dispatch('date_plus_days', 'segment_warehouse')(date_expression, days)) }}
{%- endmacro %}

{% macro duckdb__date_plus_days(date_expression, days) -%}{{ date_expression }} + {{ days }}{%- endmacro %}

{% macro default__date_plus_days(date_expression, days) -%}date_add({{ date_expression }}, {{ days }}){%- endmacro %}

{% macro days_between(start_date, end_date) -%}
    {#- Whole days from the date `start_date` to the date `end_date` (negative when it is earlier). -#}
    {{ return(adapter.dispatch('days_between', 'segment_warehouse')(start_date, end_date)) }}
{%- endmacro %}

{% macro duckdb__days_between(start_date, end_date) -%}date_diff('day', {{ start_date }}, {{ end_date }}){%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}datediff({{ end_date }}, {{ start_date }}){%- endmacro %}

{% macro integer_divide(dividend, divisor) -%}
    {#- Integer division of two whole numbers (the quotient rounded towards zero). -#}
    {{ return(adapter.dispatch('integer_divide', 'segment_warehouse')(dividend, divisor)) }}
{%- endmacro %}

{% macro duckdb__integer_divide(dividend, divisor) -%}{{ dividend }} // {{ divisor }}{%- endmacro %}

{% macro default__integer_divide(dividend, divisor) -%}{{ dividend }} div {{ divisor }}{%- endmacro %}

{% macro format_timestamp_seconds(timestamp_expression) -%}
    {#- A timestamp as text YYYY-MM-DD HH:MM:SS. -#}
    {{ return(adapter.dispatch('format_timestamp_seconds', 'segment_warehouse')(timestamp_expression)) }}
{%- endmacro %}

{% macro duckdb__format_timestamp_seconds(timestamp_expression) -%}
    strftime({{ timestamp_expression }}, '%Y-%m-%d %H:%M:%S')
{%- endmacro %}

{% macro default__format_timestamp_seconds(timestamp_expression) -%}
    date_format({{ timestamp_expression }}, 'yyyy-MM-dd HH:mm:ss')
{%- endmacro %}

{% macro round_double(expression, digits) -%}
    {#- A double rounded to `digits` (>= 0) decimals as DuckDB rounds it: the double times 10^digits
        rounded half away from zero, divided by 10^digits (Spark's round of a double would instead
        round its shortest decimal text, which differs from DuckDB's on a value such as
        74.47274999999999, whose product 744727.4999999999 ... rounds to 744727). -#}
    {{ return(adapter.dispatch('round_double', 'segment_warehouse')(expression, digits)) }}
{%- endmacro %}

{% macro duckdb__round_double(expression, digits) -%}round({{ expression }}, {{ digits }}){%- endmacro %}

{% macro default__round_double(expression, digits) -%}
    {%- set scale = 10 ** (digits | int) -%}
    (round(cast({{ expression }} as double) * {{ scale }}D, 0) / {{ scale }}D)
{%- endmacro %}

