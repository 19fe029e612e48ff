{#-
    Parsing helpers for raw values. A value arrives as text (CSV) or with its own type (Parquet,
    read natively so that typed columns are not printed and parsed back); every helper accepts
    both. Each returns null where the value cannot be read; staging compares the result with the
    raw value to report unparseable rows. try_cast ignores surrounding blanks and reads '' as null.
-#}

{% macro whitespace_characters() -%}
    {#- What Python's str.strip() removes: spaces, tabs, line breaks and the Unicode spaces. -#}
    ({% for code in [32, 9, 10, 11, 12, 13, 28, 29, 30, 31, 133, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288] %}chr({{ code }}){% if not loop.last %} || {% endif %}{% endfor %})
{%- endmacro %}

{% macro clean_text(column) -%}
    {#- Text trimmed of surrounding whitespace (tabs and line breaks included), blank -> null:
        the DuckDB function segment_clean_text (create_parsing_functions). -#}
    {{ return(adapter.dispatch('clean_text', 'segment_warehouse')(column)) }}
{%- endmacro %}

{% macro duckdb__clean_text(column) -%}
    segment_clean_text({{ column }})
{%- endmacro %}

{% macro parse_timestamp(column, source_type=none) -%}
    {#- UTC timestamp; an offset (Z, +02:00) is converted, no offset (or a naive Parquet timestamp)
        means UTC (the session time zone is UTC, see profiles.yml). source_type: the raw column's
        DuckDB type when known; a naive timestamp or a date is then cast without a time-zone
        lookup, which costs several seconds per 50 million rows. -#}
    {%- if source_type is not none and (source_type.startswith('TIMESTAMP') and 'TIME ZONE' not in source_type or source_type == 'DATE') -%}
        cast({{ column }} as timestamp)
    {%- else -%}
        {{ adapter.dispatch('parse_timestamp_text', 'segment_warehouse')(column) }}
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__parse_timestamp_text(column) -%}
    segment_parse_timestamp({{ column }})
{%- endmacro %}

{% macro parse_date(column, source_type=none) -%}
    try_cast(cast({{ parse_timestamp(column, source_type) }} as date) as date)
{%- endmacro %}

{% macro parse_decimal(column, precision=18, scale=4) -%}
    try_cast({{ column }} as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{% macro parse_integer(column) -%}
    {#- A whole number; 2.5 (text or a Parquet double) is unparseable, not rounded. -#}
    {{ return(adapter.dispatch('parse_integer', 'segment_warehouse')(column)) }}
{%- endmacro %}

{% macro duckdb__parse_integer(column) -%}
    segment_parse_integer({{ column }})
{%- endmacro %}

{% macro parse_double(column) -%}
    try_cast({{ column }} as double)
{%- endmacro %}

{% macro parse_boolean(column) -%}
    {{ return(adapter.dispatch('parse_boolean', 'segment_warehouse')(column)) }}
{%- endmacro %}

{% macro duckdb__parse_boolean(column) -%}
    segment_parse_boolean({{ column }})
{%- endmacro %}

{% macro is_unparseable(raw_column, parsed_expression) -%}
    {#- A value was there (not null, not blank) but could not be read. The blank test, which
        prints the value, runs only on the few rows whose parse failed. -#}
    {{ return(adapter.dispatch('is_unparseable', 'segment_warehouse')(raw_column, parsed_expression)) }}
{%- endmacro %}

{% macro duckdb__is_unparseable(raw_column, parsed_expression) -%}
    segment_is_unparseable({{ raw_column }}, {{ parsed_expression }})
{%- endmacro %}

{% macro parsing_functions_sql() -%}
    {#-
        The DuckDB functions (macros) the parsing helpers render to, so that a model's compiled SQL
        says `segment_clean_text(raw_email)` instead of 900 characters of trimming. Created in the
        warehouse's `main` schema on run start (create_parsing_functions); their text is part of
        the ingest models' rules version (macros/ingest.sql), so changing one reads every file
        again. A value that starts with a visible ASCII character and ends with no space, tab,
        line break or no-break space is kept as it is, which costs a fraction of a trim; the
        others are trimmed of every whitespace character. Two more serve the base models:
        segment_raw_if_lost(raw, parsed), the raw value where casting the parsed value back to the
        raw value's type does not give it (else null: the raw row is rebuilt from the two), and
        segment_emptied_columns(names), the non-null names sorted (an empty list when none).
    -#}
    {%- set text = 'cast(segment_value as varchar)' -%}
create or replace macro {{ target.database }}.main.segment_clean_text(segment_value) as
    case
        when
            ascii({{ text }}) between 33 and 126
            and not (
                suffix({{ text }}, ' ') or suffix({{ text }}, chr(9)) or suffix({{ text }}, chr(10))
                or suffix({{ text }}, chr(13)) or suffix({{ text }}, chr(160))
            )
            then {{ text }}
        else nullif(trim({{ text }}, {{ whitespace_characters() }}), '')
    end;
create or replace macro {{ target.database }}.main.segment_parse_timestamp(segment_value) as
    timezone('UTC', try_cast(segment_clean_text(segment_value) as timestamptz));
create or replace macro {{ target.database }}.main.segment_parse_integer(segment_value) as
    case when try_cast(segment_value as double) % 1 = 0 then try_cast(segment_value as bigint) end;
create or replace macro {{ target.database }}.main.segment_parse_boolean(segment_value) as
    case lower(segment_clean_text(segment_value))
        when 'true' then true when 't' then true when 'yes' then true when 'y' then true when '1' then true
        when 'false' then false when 'f' then false when 'no' then false when 'n' then false when '0' then false
    end;
create or replace macro {{ target.database }}.main.segment_parse_retail_date(segment_value, segment_day_first) as
    coalesce(
        segment_parse_timestamp(segment_value),
        case
            when segment_day_first then try_strptime(segment_clean_text(segment_value), [
                '%d/%m/%Y %H:%M', '%d/%m/%Y %H:%M:%S', '%d-%m-%Y %H:%M', '%d-%m-%Y %H:%M:%S', '%d.%m.%Y %H:%M'
            ])
            else try_strptime(segment_clean_text(segment_value), [
                '%m/%d/%Y %H:%M', '%m/%d/%Y %H:%M:%S', '%m-%d-%Y %H:%M', '%m-%d-%Y %H:%M:%S', '%m/%d/%y %H:%M'
            ])
        end
    );
create or replace macro {{ target.database }}.main.segment_is_unparseable(segment_raw, segment_parsed) as
    (segment_raw is not null and segment_parsed is null and segment_clean_text(segment_raw) is not null);
create or replace macro {{ target.database }}.main.segment_raw_if_lost(segment_raw, segment_parsed) as
    case when segment_raw is distinct from try(cast_to_type(segment_parsed, segment_raw)) then segment_raw end;
create or replace macro {{ target.database }}.main.segment_emptied_columns(segment_names) as
    case
        when list_count(segment_names) = 0 then cast([] as varchar [])
        else list_sort(list_distinct(segment_names))
    end;
{%- endmacro %}

{% macro create_parsing_functions() -%}
    {#- on-run-start: (re)creates the parsing functions of parsing_functions_sql. -#}
    {{ return(adapter.dispatch('create_parsing_functions', 'segment_warehouse')()) }}
{%- endmacro %}

{% macro duckdb__create_parsing_functions() -%}
    {{ parsing_functions_sql() }}
{%- endmacro %}
