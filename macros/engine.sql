{#-
    What differs between the engines (DuckDB, the default target, and Spark: profiles.yml). The
    models are the same on both; the few constructs that are spelled differently go through
    adapter.dispatch macros with duckdb__ and spark__ implementations (these and the others next
    to the rules they serve), or through dbt's cross-database macros.
-#}

{% macro python_models_enabled() -%}
    {#- The Python models (predictive, clusters) run on DuckDB only: dbt-spark runs Python models
        on Databricks clusters, not in a local or Thrift session. Keep in step with dbt_project.yml. -#}
    {{ return(target.type == 'duckdb') }}
{%- endmacro %}

{% macro not_materialized() -%}
    {#- `name as {{ not_materialized() }} (...)`: DuckDB inlines a CTE read twice instead of
        materializing it (the hint is DuckDB's); Spark always inlines, and has no such hint. -#}
    {{ return(adapter.dispatch('not_materialized', 'segment_warehouse')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}{%- endmacro %}

{% macro duckdb__not_materialized() -%}not materialized{%- endmacro %}

{% macro struct_of(fields) -%}
    {#- A struct value from an ordered mapping of field name to SQL expression. -#}
    {{ return(adapter.dispatch('struct_of', 'segment_warehouse')(fields)) }}
{%- endmacro %}

{% macro default__struct_of(fields) -%}
    named_struct(
    {%- for name, expression in fields.items() -%}
        '{{ name }}', {{ expression }}{{ ', ' if not loop.last }}
    {%- endfor -%}
    )
{%- endmacro %}

{% macro duckdb__struct_of(fields) -%}
    struct_pack(
    {%- for name, expression in fields.items() -%}
        {{ name }} := {{ expression }}{{ ', ' if not loop.last }}
    {%- endfor -%}
    )
{%- endmacro %}
