{#-
    What differs between the engines in staging, the seeds, the on-run-start hooks and
    data_quality_issues. Each macro dispatches (adapter.dispatch): the duckdb__ branch keeps the
    DuckDB SQL as it was, the default__ branch is Spark's (dbt-spark). Where DuckDB calls a
    function that create_parsing_functions made (macros/parsing.sql), Spark gets the same rule
    written inline: a Spark SQL function takes typed arguments, and a raw value arrives as text
    (CSV) or with its own type (Parquet).
-#}

{#- ---------------------------------------------------------------- parsing (macros/parsing.sql) -#}

{% macro spark_whitespace_literal() -%}
    {#- The characters of whitespace_characters() as one Spark string literal (\uXXXX escapes:
        Spark's chr() gives only the first 256 code points). -#}
    '{% for code in [32, 9, 10, 11, 12, 13, 28, 29, 30, 31, 133, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288] %}\u{{ '%04x' | format(code) }}{% endfor %}'
{%- endmacro %}

{% macro default__clean_text(column) -%}
    {%- set text = 'cast(' ~ column ~ ' as string)' -%}
    case
        when
            ascii({{ text }}) between 33 and 126
            and not (
                endswith({{ text }}, ' ') or endswith({{ text }}, '\t') or endswith({{ text }}, '\n')
                or endswith({{ text }}, '\r') or endswith({{ text }}, '\u00a0')
            )
            then {{ text }}
        else nullif(trim(both {{ spark_whitespace_literal() }} from {{ text }}), '')
    end
{%- endmacro %}

{% macro default__parse_timestamp_text(column) -%}
    try_cast({{ clean_text(column) }} as timestamp)
{%- endmacro %}

{% macro default__parse_integer(column) -%}
    case
        when try_cast({{ column }} as double) % 1 = 0
            then coalesce(try_cast({{ column }} as bigint), try_cast(try_cast({{ column }} as double) as bigint))
    end
{%- endmacro %}

{% macro default__parse_boolean(column) -%}
    case lower({{ clean_text(column) }})
        when 'true' then true when 't' then true when 'yes' then true when 'y' then true when '1' then true
        when 'false' then false when 'f' then false when 'no' then false when 'n' then false when '0' then false
    end
{%- endmacro %}

{% macro default__is_unparseable(raw_column, parsed_expression) -%}
    ({{ raw_column }} is not null and {{ parsed_expression }} is null and {{ clean_text(raw_column) }} is not null)
{%- endmacro %}

{% macro default__parse_online_retail_date(column, is_day_first) -%}
    {#- Spark's datetime patterns: one letter reads one or two digits. -#}
    {%- set text = clean_text(column) -%}
    coalesce(
        {{ default__parse_timestamp_text(column) }},
        case
            when {{ is_day_first }} then coalesce(
                {%- for pattern in ['d/M/yyyy H:m', 'd/M/yyyy H:m:s', 'd-M-yyyy H:m', 'd-M-yyyy H:m:s', 'd.M.yyyy H:m'] %}
                try_to_timestamp({{ text }}, '{{ pattern }}'){{ ',' if not loop.last }}
                {%- endfor %}
            )
            else coalesce(
                {%- for pattern in ['M/d/yyyy H:m', 'M/d/yyyy H:m:s', 'M-d-yyyy H:m', 'M-d-yyyy H:m:s', 'M/d/yy H:m'] %}
                try_to_timestamp({{ text }}, '{{ pattern }}'){{ ',' if not loop.last }}
                {%- endfor %}
            )
        end
    )
{%- endmacro %}

{% macro raw_if_lost(raw_column, parsed_expression, raw_type) -%}
    {#- The raw value where casting the parsed value back to the raw value's type does not give it
        (else null): the raw row is rebuilt from the two (macros/ingest.sql). -#}
    {{ return(adapter.dispatch('raw_if_lost', 'segment_warehouse')(raw_column, parsed_expression, raw_type)) }}
{%- endmacro %}

{% macro duckdb__raw_if_lost(raw_column, parsed_expression, raw_type) -%}
    segment_raw_if_lost({{ raw_column }}, {{ parsed_expression }})
{%- endmacro %}

{% macro default__raw_if_lost(raw_column, parsed_expression, raw_type) -%}
    case when {{ raw_column }} is distinct from try_cast({{ parsed_expression }} as {{ raw_type }}) then {{ raw_column }} end
{%- endmacro %}

{% macro emptied_column_names(expressions) -%}
    {#- The non-null names among `expressions` (SQL text expressions), distinct and sorted. -#}
    {{ return(adapter.dispatch('emptied_column_names', 'segment_warehouse')(expressions)) }}
{%- endmacro %}

{% macro duckdb__emptied_column_names(expressions) -%}
    segment_emptied_columns([
    {%- for expression in expressions %}
        {{ expression }}{% if not loop.last %},{% endif %}
    {%- endfor %}
    ])
{%- endmacro %}

{% macro default__emptied_column_names(expressions) -%}
    array_sort(array_distinct(array_compact(array(
    {%- for expression in expressions %}
        {{ expression }}{% if not loop.last %},{% endif %}
    {%- endfor %}
    ))))
{%- endmacro %}

{% macro empty_string_list() -%}
    {#- An empty list of text. -#}
    {{ return(adapter.dispatch('empty_string_list', 'segment_warehouse')()) }}
{%- endmacro %}

{% macro duckdb__empty_string_list() -%}cast([] as varchar [])
{%- endmacro %}

{% macro default__empty_string_list() -%}cast(array() as array<string>)
{%- endmacro %}

{% macro list_length(expression) -%}
    {{ return(adapter.dispatch('list_length', 'segment_warehouse')(expression)) }}
{%- endmacro %}

{% macro duckdb__list_length(expression) -%}len({{ expression }})
{%- endmacro %}

{% macro default__list_length(expression) -%}size({{ expression }})
{%- endmacro %}

{% macro unnest_list(expression) -%}
    {#- In a select list: one row per element of the list. -#}
    {{ return(adapter.dispatch('unnest_list', 'segment_warehouse')(expression)) }}
{%- endmacro %}

{% macro duckdb__unnest_list(expression) -%}unnest({{ expression }})
{%- endmacro %}

{% macro default__unnest_list(expression) -%}explode({{ expression }})
{%- endmacro %}

{% macro row_to_json(expression) -%}
    {#- A struct as JSON text (DuckDB: type JSON; Spark: a string that keeps the null fields and
        writes a timestamp as DuckDB writes a naive one, to the second: fractions of a second are
        not written on Spark). -#}
    {{ return(adapter.dispatch('row_to_json', 'segment_warehouse')(expression)) }}
{%- endmacro %}

{% macro duckdb__row_to_json(expression) -%}to_json({{ expression }})
{%- endmacro %}

{% macro default__row_to_json(expression) -%}
    to_json({{ expression }}, map('ignoreNullFields', 'false', 'timestampFormat', 'yyyy-MM-dd HH:mm:ss'))
{%- endmacro %}

{% macro json_text_at(json, path) -%}
    {#- The value at `path` (a SQL text expression, '$.name') of a JSON text, as text. -#}
    {{ return(adapter.dispatch('json_text_at', 'segment_warehouse')(json, path)) }}
{%- endmacro %}

{% macro duckdb__json_text_at(json, path) -%}json_extract_string({{ json }}, {{ path }})
{%- endmacro %}

{% macro default__json_text_at(json, path) -%}get_json_object({{ json }}, {{ path }})
{%- endmacro %}

{% macro row_key_hash(columns) -%}
    {#- A 64-bit hash of the key columns (DuckDB's hash(); Spark's xxhash64: the values differ). -#}
    {{ return(adapter.dispatch('row_key_hash', 'segment_warehouse')(columns)) }}
{%- endmacro %}

{% macro duckdb__row_key_hash(columns) -%}hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro default__row_key_hash(columns) -%}xxhash64({{ columns | join(', ') }})
{%- endmacro %}

{% macro star_replace(relation, replacements) -%}
    {#- `relation.*` with some columns replaced: replacements, an ordered list of (column,
        expression). DuckDB keeps the column order (`* replace`); Spark puts them last. -#}
    {{ return(adapter.dispatch('star_replace', 'segment_warehouse')(relation, replacements)) }}
{%- endmacro %}

{% macro duckdb__star_replace(relation, replacements) -%}
    {{ relation }}.* replace (
    {%- for column, expression in replacements %}
        {{ expression }} as {{ column }}{% if not loop.last %},{% endif %}
    {%- endfor %}
    )
{%- endmacro %}

{% macro default__star_replace(relation, replacements) -%}
    {{ relation }}.* except ({{ replacements | map('first') | join(', ') }}),
    {%- for column, expression in replacements %}
    {{ expression }} as {{ column }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{% macro regex_literal(pattern) -%}
    {#- A regular expression as a SQL string literal: Spark reads backslashes in a literal as
        escapes, so they are doubled there. -#}
    {{ return(adapter.dispatch('regex_literal', 'segment_warehouse')(pattern)) }}
{%- endmacro %}

{% macro duckdb__regex_literal(pattern) -%}'{{ pattern | replace("'", "''") }}'
{%- endmacro %}

{% macro default__regex_literal(pattern) -%}'{{ pattern | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{% macro type_of_text() -%}
    {#- The name of the text type in casts (VARCHAR on DuckDB, as before; STRING on Spark). -#}
    {{ return(adapter.dispatch('type_of_text', 'segment_warehouse')()) }}
{%- endmacro %}

{% macro duckdb__type_of_text() -%}VARCHAR{%- endmacro %}

{% macro default__type_of_text() -%}STRING{%- endmacro %}

{#- ------------------------------------------------------------------ on-run-start hooks -#}

{% macro default__create_parsing_functions() -%}
    {#- Spark: the parsing rules are written inline (above); nothing to create. -#}
    select 1
{%- endmacro %}

{% macro default__create_static_segments_table() -%}
    {#- dbt-spark runs a hook as one statement: the two run one by one here. -#}
    {%- if execute -%}
        {% do run_query('create schema if not exists static_segments') %}
        {% do run_query(
            'create table if not exists static_segments.static_segment_members ('
            ~ ' static_segment string, contact_id string, frozen_on date,'
            ~ ' source_segment_family string, source_segment string, frozen_at timestamp'
            ~ ') using parquet'
        ) %}
    {%- endif -%}
    select 1
{%- endmacro %}

{% macro relation_column_names(database, schema, identifier) -%}
    {#- The lower-case column names of a table ([] when it does not exist). -#}
    {{ return(adapter.dispatch('relation_column_names', 'segment_warehouse')(database, schema, identifier)) }}
{%- endmacro %}

{% macro duckdb__relation_column_names(database, schema, identifier) -%}
    {{ return(run_query(
        "select lower(column_name) from information_schema.columns"
        ~ " where table_catalog = '" ~ database ~ "'"
        ~ " and table_schema = '" ~ schema ~ "'"
        ~ " and table_name = '" ~ identifier ~ "'"
    ).columns[0].values() | list) }}
{%- endmacro %}

{% macro default__relation_column_names(database, schema, identifier) -%}
    {%- set relation = adapter.get_relation(database=database, schema=schema, identifier=identifier) -%}
    {%- set names = [] -%}
    {%- if relation is not none -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do names.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}

{#- ----------------------------------------------------------------------------------- seeds -#}

{% macro seed_literal(value) -%}
    {#- A CSV value as a Spark SQL literal (dbt-spark's own seed loader neither escapes quotes
        nor writes nulls). -#}
    {%- if value is none -%}null
    {%- elif value is sameas true -%}true
    {%- elif value is sameas false -%}false
    {%- elif value is number -%}{{ value }}
    {%- else -%}'{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}

{% macro spark__load_csv_rows(model, agate_table) %}
    {#- dbt-spark's loader with the values written as literals (seed_literal). -#}
    {%- set batch_size = get_batch_size() -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(batch_size) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                    {%- set type = column_override.get(col_name, inferred_type) -%}
                    cast({{ seed_literal(row[loop.index0]) }} as {{ type }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{#- ----------------------------------------------------------- whole rows (shopify, online retail) -#}

{% macro row_as_struct(relation) -%}
    {#- The row of `relation` (a name in the FROM clause) as one struct value. -#}
    {{ return(adapter.dispatch('row_as_struct', 'segment_warehouse')(relation)) }}
{%- endmacro %}

{% macro duckdb__row_as_struct(relation) -%}{{ relation }}{%- endmacro %}

{% macro default__row_as_struct(relation) -%}struct({{ relation }}.*){%- endmacro %}

{% macro row_hash(relation) -%}
    {#- A hash of the whole row of `relation` (a tie-breaker in an order; the engines' differ). -#}
    {{ return(adapter.dispatch('row_hash', 'segment_warehouse')(relation)) }}
{%- endmacro %}

{% macro duckdb__row_hash(relation) -%}hash({{ relation }}){%- endmacro %}

{% macro default__row_hash(relation) -%}xxhash64({{ relation }}.*){%- endmacro %}

{% macro star_exclude(columns) -%}
    {#- `*` without `columns` (DuckDB's `* exclude`, which sqlfluff's DuckDB dialect reads; Spark's `* except`). -#}
    {{ return(adapter.dispatch('star_exclude', 'segment_warehouse')(columns)) }}
{%- endmacro %}

{% macro duckdb__star_exclude(columns) -%}* exclude ({{ columns | join(', ') }}){%- endmacro %}

{% macro default__star_exclude(columns) -%}* except ({{ columns | join(', ') }}){%- endmacro %}
