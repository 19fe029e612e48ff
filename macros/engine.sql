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
