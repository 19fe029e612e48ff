{#- Typed access to the project's vars, with a clear error for a bad value. -#}

{% macro as_of_date(minus_days=0) -%}
    {#- The as-of date as a SQL date literal: var as_of_date; else the environment variable
        SEGMENT_AS_OF_DATE; else today in UTC. With minus_days, that many days before it (the
        earlier state that purchase propensity trains on and the backtest fits on, SPEC section 10).
        The environment variable is how the schedule passes the date: dbt parses the whole project
        again whenever --vars change (every day, for a new as_of_date), but it can reuse its last parse
        (partial parsing, about 5 s of every build) when only the environment changes, provided no
        file read the variable while parsing. So the variable is read only when `execute` is true,
        i.e. when dbt compiles the SQL it runs; while parsing, the date is only a placeholder, as
        parsing runs no SQL. -#}
    {%- set raw = var('as_of_date', none) -%}
    {%- if execute and (raw is none or (raw | string | trim) == '') -%}
        {%- set raw = env_var('SEGMENT_AS_OF_DATE', '') -%}
    {%- endif -%}
    {%- if raw is none or (raw | string | trim) == '' -%}
        {%- set day = modules.datetime.datetime.now(modules.pytz.utc).date() -%}
    {%- else -%}
        {%- set text = raw | string | trim -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
            {{ exceptions.raise_compiler_error(
                "var as_of_date (or SEGMENT_AS_OF_DATE): '" ~ text ~ "' is not a date; write it as YYYY-MM-DD, e.g. --vars '{as_of_date: 2024-06-30}'"
            ) }}
        {%- endif -%}
        {%- set year, month, day_of_month = text.split('-') | map('int') | list -%}
        {%- set next_month = modules.datetime.date(year + (month // 12), month % 12 + 1, 1) if 1 <= month <= 12 else none -%}
        {%- if next_month is none or day_of_month < 1 or day_of_month > (next_month - modules.datetime.timedelta(days=1)).day -%}
            {{ exceptions.raise_compiler_error(
                "var as_of_date (or SEGMENT_AS_OF_DATE): '" ~ text ~ "' is not a real date; write it as YYYY-MM-DD, e.g. --vars '{as_of_date: 2024-06-30}'"
            ) }}
        {%- endif -%}
        {%- set day = modules.datetime.date(year, month, day_of_month) -%}
    {%- endif -%}
    {%- set day = day - modules.datetime.timedelta(days=minus_days | int) -%}
    date '{{ day.isoformat() }}'
{%- endmacro %}

{% macro int_var(name, allow_null=false) -%}
    {#- A whole-number var rendered as SQL; `null` when empty and allowed. -#}
    {%- set raw = var(name, none) -%}
    {%- if raw is none or (raw | string | trim) in ('', 'none', 'null') -%}
        {%- if allow_null -%}
            null
        {%- else -%}
            {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a whole number of days or orders, not empty") }}
        {%- endif -%}
    {%- else -%}
        {%- set text = raw | string | trim -%}
        {%- if not modules.re.match('^[0-9]+$', text) -%}
            {{ exceptions.raise_compiler_error("var " ~ name ~ ": '" ~ text ~ "' is not a whole number >= 0") }}
        {%- endif -%}
        {{ text | int }}
    {%- endif -%}
{%- endmacro %}

{% macro source_system() -%}
    {%- set value = var('source_system', 'raw') | string | trim -%}
    {%- if value not in ('raw', 'online_retail', 'shopify') -%}
        {{ exceptions.raise_compiler_error("var source_system: '" ~ value ~ "' is unknown; use raw, online_retail or shopify") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro rfm_scoring() -%}
    {%- set value = var('rfm_scoring', 'quantile') | string | trim -%}
    {%- if value not in ('quantile', 'thresholds') -%}
        {{ exceptions.raise_compiler_error("var rfm_scoring: '" ~ value ~ "' is unknown; use quantile or thresholds") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro store_currency() -%}
    {#- The store currency as a SQL expression: the var, or null (resolved from the data). -#}
    {%- set raw = var('store_currency', none) -%}
    {%- if raw is none or (raw | string | trim) == '' -%}
        null
    {%- else -%}
        '{{ raw | string | trim | upper }}'
    {%- endif -%}
{%- endmacro %}

{% macro days_since(timestamp_column, as_of=none) -%}
    {#- Whole UTC days from the event's date to the as-of date (0 = on the as-of date); `as_of`, a
        SQL date expression, replaces the as-of date (default as_of_date()). -#}
    {{ days_between('cast(' ~ timestamp_column ~ ' as date)', as_of or as_of_date()) }}
{%- endmacro %}

{% macro in_rfm_window(days_expression) -%}
    {#- True when a day count falls in the RFM window (var rfm_window_days; empty = all history). -#}
    {%- set window = int_var('rfm_window_days', allow_null=true) | trim -%}
    {%- if window == 'null' -%}
        true
    {%- else -%}
        ({{ days_expression }}) <= {{ window }}
    {%- endif -%}
{%- endmacro %}

{% macro number_var(name) -%}
    {#- A number var >= 0 (e.g. 0.8, 25, 12.5) as a bare SQL numeric literal; the caller casts it. -#}
    {%- set raw = var(name, none) -%}
    {%- set text = '' if raw is none else (raw | string | trim) -%}
    {%- if not modules.re.match('^[0-9]+([.][0-9]+)?$', text) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ ": '" ~ text ~ "' is not a number >= 0") }}
    {%- endif -%}
    {{ text }}
{%- endmacro %}

{% macro positive_int_var(name) -%}
    {#- A whole-number var that must be at least 1 (a divisor, e.g. a half-life in days). -#}
    {%- set value = int_var(name) | trim -%}
    {%- if value | int < 1 -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a whole number >= 1, not " ~ value) }}
    {%- endif -%}
    {{ value }}
{%- endmacro %}

{% macro check_lifecycle_vars() -%}
    {#- SPEC section 2 gives exactly one stage per contact only when the vars agree with each other:
        a contact with one valid order is `new`, so `loyal` needs at least 2 orders, and `at_risk`
        lies between active_days and lapsed_days. Other values would put a contact in two stages;
        they stop the build with what to change. Renders nothing. -#}
    {%- set active = int_var('active_days') | trim | int -%}
    {%- set lapsed = int_var('lapsed_days') | trim | int -%}
    {%- set loyal = int_var('loyal_min_orders') | trim | int -%}
    {%- if loyal < 2 -%}
        {{ exceptions.raise_compiler_error(
            "var loyal_min_orders is " ~ loyal ~ ": it must be at least 2 (SPEC section 2: a contact"
            ~ " with exactly one valid order is new, so loyal needs two or more); set loyal_min_orders"
            ~ " to 2 or more"
        ) }}
    {%- endif -%}
    {%- if lapsed < active -%}
        {{ exceptions.raise_compiler_error(
            "var lapsed_days (" ~ lapsed ~ ") is less than active_days (" ~ active ~ "): a last order"
            ~ " between the two would be both recent and lapsed (SPEC section 2: at_risk lies between"
            ~ " them); set lapsed_days to at least active_days"
        ) }}
    {%- endif -%}
{%- endmacro %}

{% macro within_days_of_as_of(timestamp_column, days, as_of=none) -%}
    {#- True when the event's UTC day is within `days` days of the as-of date (days_since between 0
        and days), written as a range on the raw timestamp so that the scan can skip row groups;
        `as_of` replaces the as-of date (default as_of_date()). -#}
    {%- set as_of = as_of or as_of_date() %}
    (
        {{ timestamp_column }} >= {{ as_of }} - to_days(cast({{ days }} as integer))
        and {{ timestamp_column }} < {{ as_of }} + to_days(1)
    )
{%- endmacro %}

{% macro is_valid_order() -%}
    {#- SPEC: a valid order is completed with a positive net amount (the as-of date is each model's
        own filter). Over columns status and amount_net. -#}
    status = 'completed' and amount_net > 0
{%- endmacro %}

{% macro in_predictive_fit_window(days_expression) -%}
    {#- True when a day count falls in the window the predictive models are fitted on (var
        predictive_fit_window_days; empty = all history). SPEC section 10. -#}
    {%- set window = int_var('predictive_fit_window_days', allow_null=true) | trim -%}
    {%- if window == 'null' -%}
        true
    {%- else -%}
        ({{ days_expression }}) <= {{ window }}
    {%- endif -%}
{%- endmacro %}

{% macro check_predictive_vars() -%}
    {#- SPEC section 10's tiers are exclusive and ordered only when their cut points are: churn_risk
        needs churn_risk_medium_min_p_alive <= churn_risk_low_min_p_alive <= 1, value_tier needs
        value_tier_top_max_share <= value_tier_high_max_share <= value_tier_medium_max_share <= 1.
        Other values stop the build with what to change. Renders nothing. -#}
    {%- set low = number_var('churn_risk_low_min_p_alive') | trim | float -%}
    {%- set medium = number_var('churn_risk_medium_min_p_alive') | trim | float -%}
    {%- if not (medium <= low <= 1) -%}
        {{ exceptions.raise_compiler_error(
            "vars churn_risk_medium_min_p_alive (" ~ medium ~ ") and churn_risk_low_min_p_alive (" ~ low
            ~ ") must satisfy medium <= low <= 1 (p_alive is a probability; SPEC section 10)"
        ) }}
    {%- endif -%}
    {%- set top = number_var('value_tier_top_max_share') | trim | float -%}
    {%- set high = number_var('value_tier_high_max_share') | trim | float -%}
    {%- set middle = number_var('value_tier_medium_max_share') | trim | float -%}
    {%- if not (top <= high <= middle <= 1) -%}
        {{ exceptions.raise_compiler_error(
            "vars value_tier_top_max_share (" ~ top ~ "), value_tier_high_max_share (" ~ high
            ~ ") and value_tier_medium_max_share (" ~ middle ~ ") must satisfy top <= high <= medium <= 1"
            ~ " (shares of rank; SPEC section 10)"
        ) }}
    {%- endif -%}
{%- endmacro %}
