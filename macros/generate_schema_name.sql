{#-
    Layers land in their own schemas (staging, intermediate, seeds) and marts in `main`, so that
    BI tools find the segment tables without a prefix. A custom schema replaces the target schema
    instead of being appended to it.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
