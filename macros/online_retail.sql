{#-
    Parsing the UCI "Online Retail" lines (SPEC section 9) that segment-warehouse-land landed from
    either published layout (dbt source `online_retail`, every value as text).
-#}

{% macro parse_online_retail_date(column, is_day_first) -%}
    {#-
        ISO text or timestamps first; else month-first (US) or day-first text (is_day_first: a
        boolean expression, one choice for all the files of online_retail_path together): the
        DuckDB function segment_parse_retail_date (macros/parsing.sql).
    -#}
    {{ return(adapter.dispatch('parse_online_retail_date', 'segment_warehouse')(column, is_day_first)) }}
{%- endmacro %}

{% macro duckdb__parse_online_retail_date(column, is_day_first) -%}
    segment_parse_retail_date({{ column }}, {{ is_day_first }})
{%- endmacro %}

{% macro online_retail_lines() -%}
    {#-
        source('online_retail', 'lines') when the build reads Online Retail (checked to exist: a
        plain `dbt build` needs `segment-warehouse-land` first), else an empty relation of its
        columns.
    -#}
    {%- set landing = source('online_retail', 'lines') -%}
    {%- if not execute or source_system() != 'online_retail' -%}
        {{ return('(' ~ empty_relation(['invoice_no', 'stock_code', 'description', 'quantity', 'invoice_date', 'unit_price', 'customer_id', 'country']) ~ ')') }}
    {%- endif -%}
    {%- if load_relation(landing) is none -%}
        {{ exceptions.raise_compiler_error(
            "online retail: the landing table " ~ landing ~ " does not exist. Run `segment-warehouse-land`"
            ~ " with the build's vars (source_system: online_retail, online_retail_path) and DBT_DUCKDB_PATH"
            ~ " before dbt build; the Dagster job does."
        ) }}
    {%- endif -%}
    {{ return(landing) }}
{%- endmacro %}
