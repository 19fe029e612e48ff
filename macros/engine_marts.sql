{#-
    Engine differences met by the marts (models/marts): each macro dispatches to a duckdb__
    implementation (the SQL the models always had on DuckDB) and a default__ one (Spark).
-#}

{% macro struct_field(expression, field) -%}
    {#- The field `field` of a struct value. -#}
    {{ return(adapter.dispatch('struct_field', 'segment_warehouse')(expression, field)) }}
{%- endmacro %}

{% macro duckdb__struct_field(expression, field) -%}
    struct_extract({{ expression }}, '{{ field }}')
{%- endmacro %}

{% macro default__struct_field(expression, field) -%}
    {{ expression }}.{{ field }}
{%- endmacro %}

{% macro unnest_values(items) -%}
    {#- A select-list expression giving one row per item of the list of SQL expressions `items`
        (of one type): `unnest_values([...]) as name`. -#}
    {{ return(adapter.dispatch('unnest_values', 'segment_warehouse')(items)) }}
{%- endmacro %}

{% macro duckdb__unnest_values(items) -%}
    unnest([
        {%- for item in items %}
        {{ item }}{{ ',' if not loop.last }}
        {%- endfor %}
    ])
{%- endmacro %}

{% macro default__unnest_values(items) -%}
    explode(array(
        {%- for item in items %}
        {{ item }}{{ ',' if not loop.last }}
        {%- endfor %}
    ))
{%- endmacro %}

{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {#- Every match of the regular expression `pattern` (the text of a SQL string literal, no
        backslashes) replaced by `replacement` (likewise). -#}
    {{ return(adapter.dispatch('regexp_replace_all', 'segment_warehouse')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro duckdb__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}

{% macro trim_characters(expression, characters) -%}
    {#- `expression` without any of `characters` (the text of a SQL string literal) at either end. -#}
    {{ return(adapter.dispatch('trim_characters', 'segment_warehouse')(expression, characters)) }}
{%- endmacro %}

{% macro duckdb__trim_characters(expression, characters) -%}
    trim({{ expression }}, '{{ characters }}')
{%- endmacro %}

{% macro default__trim_characters(expression, characters) -%}
    btrim({{ expression }}, '{{ characters }}')
{%- endmacro %}

{% macro regexp_full_match(expression, pattern) -%}
    {#- True when the regular expression `pattern` (the text of a SQL string literal, backslashes
        written once) matches the whole of `expression`; null when it is null. -#}
    {{ return(adapter.dispatch('regexp_full_match', 'segment_warehouse')(expression, pattern)) }}
{%- endmacro %}

{% macro duckdb__regexp_full_match(expression, pattern) -%}
    regexp_full_match(
            {{ expression }},
            '{{ pattern }}'
        )
{%- endmacro %}

{% macro default__regexp_full_match(expression, pattern) -%}
    {#- Spark's string literals take backslash escapes (so each is doubled) and rlike finds a match
        anywhere, where a Java `$` also matches before a final line break: anchored with \z. -#}
    ({{ expression }} rlike '^(?:{{ pattern | replace("\\", "\\\\") }})\\z')
{%- endmacro %}

{% macro sha256_hex(expression) -%}
    {#- The SHA-256 of a string as 64 lower-case hex digits. -#}
    {{ return(adapter.dispatch('sha256_hex', 'segment_warehouse')(expression)) }}
{%- endmacro %}

{% macro duckdb__sha256_hex(expression) -%}
    sha256({{ expression }})
{%- endmacro %}

{% macro default__sha256_hex(expression) -%}
    sha2({{ expression }}, 256)
{%- endmacro %}

{% macro drop_partitions_statement(relation, column, values) -%}
    {#- Spark: one statement dropping the partitions of `relation` whose `column` is one of `values`
        (SQL literals; none = a statement that does nothing). Parquet tables take no DELETE. -#}
    {%- if values | length == 0 -%}
        select 1
    {%- else -%}
        alter table {{ relation }} drop if exists
        {%- for value in values %}
        partition ({{ column }} = {{ value }}){{ ',' if not loop.last }}
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}
