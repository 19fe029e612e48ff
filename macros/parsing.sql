{#-
    Parsing helpers for raw values that arrive as text. Each returns null where the value cannot
    be read; staging compares the result with the raw value to report unparseable rows.
-#}

{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{% macro parse_timestamp(column) -%}
    {#- UTC timestamp; an offset (Z, +02:00) is converted, no offset means UTC. -#}
    timezone('UTC', try_cast({{ clean_text(column) }} as timestamptz))
{%- endmacro %}

{% macro parse_date(column) -%}
    try_cast(cast({{ parse_timestamp(column) }} as date) as date)
{%- endmacro %}

{% macro parse_decimal(column, precision=18, scale=4) -%}
    try_cast({{ clean_text(column) }} as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{% macro parse_integer(column) -%}
    try_cast({{ clean_text(column) }} as bigint)
{%- endmacro %}

{% macro parse_double(column) -%}
    try_cast({{ clean_text(column) }} as double)
{%- endmacro %}

{% macro parse_boolean(column) -%}
    case lower({{ clean_text(column) }})
        when 'true' then true when 't' then true when 'yes' then true when 'y' then true when '1' then true
        when 'false' then false when 'f' then false when 'no' then false when 'n' then false when '0' then false
    end
{%- endmacro %}

{% macro is_unparseable(raw_column, parsed_expression) -%}
    ({{ clean_text(raw_column) }} is not null and ({{ parsed_expression }}) is null)
{%- endmacro %}
