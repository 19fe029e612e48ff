{% macro get_where_subquery(relation) -%}
    {#- dbt's `where` config for data tests, plus one placeholder: __as_of_date__ becomes the build's
        as-of date (a date literal). dbt renders a test's config when it parses the YAML, where project
        macros are not available, so the date is put in here, when the test runs.
        Used by the history tests: a build writes the rows of its own as-of date (and, in
        segment_membership_changes, of the built date after it), so only rows from that date on are
        tested; earlier days were tested by the builds that wrote them. -#}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set where = where | replace('__as_of_date__', as_of_date() | trim) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
