{#-
    Parsing helpers for raw values. A value arrives as text (CSV) or with its own type (Parquet,
    read natively so that typed columns are not printed and parsed back); every helper accepts
    both. Each returns null where the value cannot be read; staging compares the result with the
    raw value to report unparseable rows. try_cast ignores surrounding blanks and reads '' as null.
-#}

{% macro clean_text(column) -%}
    nullif(trim(cast({{ column }} as varchar)), '')
{%- endmacro %}

{% macro parse_timestamp(column, source_type=none) -%}
    {#- UTC timestamp; an offset (Z, +02:00) is converted, no offset (or a naive Parquet timestamp)
        means UTC (the session time zone is UTC, see profiles.yml). source_type: the raw column's
        DuckDB type when known; a naive timestamp or a date is then cast without a time-zone
        lookup, which costs several seconds per 50 million rows. -#}
    {%- if source_type is not none and (source_type.startswith('TIMESTAMP') and 'TIME ZONE' not in source_type or source_type == 'DATE') -%}
        cast({{ column }} as timestamp)
    {%- else -%}
        timezone('UTC', try_cast({{ column }} as timestamptz))
    {%- endif -%}
{%- endmacro %}

{% macro parse_date(column, source_type=none) -%}
    try_cast(cast({{ parse_timestamp(column, source_type) }} as date) as date)
{%- endmacro %}

{% macro parse_decimal(column, precision=18, scale=4) -%}
    try_cast({{ column }} as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{% macro parse_integer(column) -%}
    {#- A whole number; 2.5 (text or a Parquet double) is unparseable, not rounded. -#}
    case when try_cast({{ column }} as double) % 1 = 0 then try_cast({{ column }} as bigint) end
{%- endmacro %}

{% macro parse_double(column) -%}
    try_cast({{ column }} as double)
{%- endmacro %}

{% macro parse_boolean(column) -%}
    case lower({{ clean_text(column) }})
        when 'true' then true when 't' then true when 'yes' then true when 'y' then true when '1' then true
        when 'false' then false when 'f' then false when 'no' then false when 'n' then false when '0' then false
    end
{%- endmacro %}

{% macro is_unparseable(raw_column, parsed_expression) -%}
    {#- A value was there (not null, not blank) but could not be read. The blank test, which
        prints the value, runs only on the few rows whose parse failed. -#}
    ({{ raw_column }} is not null and ({{ parsed_expression }}) is null and {{ clean_text(raw_column) }} is not null)
{%- endmacro %}
