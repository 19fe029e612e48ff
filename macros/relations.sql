{#-
    Small helpers for the SQL the staging macros write: a quoted string, and an empty relation
    with the columns of a landing table (for the sources a build does not read).
-#}

{% macro sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{% macro empty_relation(columns, prefix='', types={}) -%}
    select
    {%- for column in columns %}
        cast(null as {{ types.get(column, type_of_text()) }}) as {{ prefix }}{{ column }},
    {%- endfor %}
        cast(null as {{ type_of_text() }}) as _source_file,
        cast(null as bigint) as _source_row,
        cast(null as {{ type_of_text() }}) as _source_fingerprint
    where false
{%- endmacro %}
