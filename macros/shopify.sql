{#-
    The Shopify source system (source_system: shopify): a shop whose data a loader already put in
    warehouse tables, in Fivetran's Shopify connector schema (models/staging/shopify/
    _shopify__sources.yml declares the tables and the columns read; docs/analytics-engineer.md,
    "A shop's own tables as sources").
-#}

{% macro shopify_table(name) -%}
    {#-
        The source table `name` of source `shopify`. When another source system is selected the
        tables need not exist: the models then read an empty relation with the declared columns and
        types (from the sources YAML), so they stay empty and cost nothing. The source() call is
        made either way, so dbt's lineage always shows where the Shopify models read from.
    -#}
    {%- set relation = source('shopify', name) -%}
    {%- if not execute or source_system() == 'shopify' -%}
        {{ relation }}
    {%- else -%}
        {%- set node = graph.sources['source.' ~ project_name ~ '.shopify.' ~ name] -%}
        (
            select
            {%- for column in node.columns.values() %}
                cast(null as {{ column.data_type }}) as {{ adapter.quote(column.name) }}
                {%- if not loop.last %},{% endif %}
            {%- endfor %}
            where false
        )
    {%- endif -%}
{%- endmacro %}

{% macro shopify_source_name(name) -%}
    {#- How data_quality_issues names a Shopify table in source_file: `<schema>.<table>`. -#}
    '{{ var('shopify_schema', 'shopify') }}.{{ name }}'
{%- endmacro %}

{% macro check_shopify_sources() -%}
    {#-
        on-run-start: with source_system shopify, every declared table and column must exist where
        the vars shopify_database / shopify_schema point; otherwise stop before any model runs,
        naming the var to set (instead of a binder error from the first model that reads it).
    -#}
    {%- if execute and source_system() == 'shopify' -%}
        {%- set missing_tables = [] -%}
        {%- set missing_columns = [] -%}
        {%- set where = [] -%}
        {%- for node in graph.sources.values() if node.source_name == 'shopify' -%}
            {%- if where | length == 0 -%}
                {%- do where.append(node.database ~ '.' ~ node.schema) -%}
            {%- endif -%}
            {%- set found = relation_column_names(node.database, node.schema, node.identifier) -%}
            {%- if found | length == 0 -%}
                {%- do missing_tables.append(node.identifier) -%}
            {%- else -%}
                {%- for column in node.columns.values() if column.name | lower not in found -%}
                    {%- do missing_columns.append(node.identifier ~ '.' ~ column.name) -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if missing_tables | length > 0 -%}
            {{ exceptions.raise_compiler_error(
                "source_system shopify: no table " ~ missing_tables | join(', ') ~ " in " ~ where[0]
                ~ " (database.schema). Point the vars shopify_database (now '"
                ~ (var('shopify_database', none) or '') ~ "'; empty = the warehouse's own) and shopify_schema (now '"
                ~ var('shopify_schema', 'shopify') ~ "') at the schema your Fivetran Shopify connector loads,"
                ~ " e.g. --vars '{source_system: shopify, shopify_schema: shopify_prod}'"
            ) }}
        {%- endif -%}
        {%- if missing_columns | length > 0 -%}
            {{ exceptions.raise_compiler_error(
                "source_system shopify: " ~ where[0] ~ " lacks the columns " ~ missing_columns | join(', ')
                ~ " of Fivetran's Shopify schema (models/staging/shopify/_shopify__sources.yml lists every"
                ~ " column read). Is shopify_schema the Fivetran Shopify connector's schema?"
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
