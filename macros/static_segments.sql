{#-
    Static segments (SPEC section 11): a segment's members frozen on a date under a name, by the
    command segment-warehouse-freeze (segment_warehouse/static_segments.py). They live in schema
    `static_segments` of the warehouse, outside every schema dbt builds, so no build changes them;
    segment_membership reads them through source static_segments (family `static`).
-#}

{% macro create_static_segments_table() -%}
    {#- on-run-start: the schema and table of the frozen members, created when missing, so that a
        fresh warehouse builds (with no static segment) and the freeze command has a table to write. -#}
    {{ return(adapter.dispatch('create_static_segments_table', 'segment_warehouse')()) }}
{%- endmacro %}

{% macro duckdb__create_static_segments_table() -%}
    {%- if execute -%}
        create schema if not exists static_segments;
        create table if not exists static_segments.static_segment_members (
            static_segment varchar not null,
            contact_id varchar not null,
            frozen_on date not null,
            source_segment_family varchar not null,
            source_segment varchar not null,
            frozen_at timestamp with time zone not null
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
