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
    {#-
        Text trimmed of surrounding whitespace (tabs and line breaks included), blank -> null.
        Most values need nothing: one that starts with a visible ASCII character and ends with no
        space, tab, line break or no-break space is kept as it is, which costs a fraction of a trim;
        the others are trimmed of every whitespace character.
    -#}
    {%- set value = 'cast(' ~ column ~ ' as varchar)' -%}
    case
        when
            ascii({{ value }}) between 33 and 126
            and not (
                suffix({{ value }}, ' ') or suffix({{ value }}, chr(9)) or suffix({{ value }}, chr(10))
                or suffix({{ value }}, chr(13)) or suffix({{ value }}, chr(160))
            )
            then {{ value }}
        else nullif(trim({{ value }}, {{ whitespace_characters() }}), '')
    end
{%- endmacro %}

{% macro parse_timestamp(column, source_type=none) -%}
    {#- UTC timestamp; an offset (Z, +02:00) is converted, no offset (or a naive Parquet timestamp)
        means UTC (the session time zone is UTC, see profiles.yml). source_type: the raw column's
        DuckDB type when known; a naive timestamp or a date is then cast without a time-zone
        lookup, which costs several seconds per 50 million rows. -#}
    {%- if source_type is not none and (source_type.startswith('TIMESTAMP') and 'TIME ZONE' not in source_type or source_type == 'DATE') -%}
        cast({{ column }} as timestamp)
    {%- else -%}
        timezone('UTC', try_cast({{ clean_text(column) }} as timestamptz))
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
