{#-
    Helpers that let every staging model keep the rows it cannot use instead of dropping them.
    Every landed row is tagged with the first failed check (`dq_failure`: {reason, column_name})
    and the optional columns whose values could not be read and were emptied
    (`dq_emptied_columns`): for the raw contract in the stg_raw__<entity> views (which also mark a
    row that a later copy of its key replaces as duplicate_key), for the other sources in their
    base views. Consumers read the usable rows; the mart data_quality_issues keeps the others,
    with the raw row (as JSON, built only for them).
-#}

{% macro usable_rows(model) -%}
    {#- The usable rows of a raw-contract staging model (stg_raw__<entity>), with the entity's
        columns only: the rows whose verdict is null, without the verdict's columns. -#}
    select {{ star_except(['dq_failure', 'dq_emptied_columns', 'record_key', '_source_file', '_source_row', 'raw_row']) }}
    from {{ ref(model) }}
    where dq_failure is null
{%- endmacro %}

{% macro dq_first_failure(checks) -%}
    {#- checks: list of (condition, reason, column); the first condition that holds wins. -#}
    case
    {%- for condition, reason, column in checks %}
        when {{ condition }} then {'reason': '{{ reason }}', 'column_name': '{{ column }}'}
    {%- endfor %}
    end
{%- endmacro %}

{% macro dq_emptied_columns(checks) -%}
    {#- checks: list of (condition, column); names of the optional columns that were emptied. -#}
    {%- if checks | length == 0 -%}
        cast([] as varchar [])
    {%- else -%}
        {#- segment_emptied_columns (macros/parsing.sql): the names of the checks that hold, sorted;
            sorting runs only for the rows where one holds. -#}
        segment_emptied_columns([
        {%- for condition, column in checks %}
            if({{ condition }}, '{{ column }}', null){% if not loop.last %},{% endif %}
        {%- endfor %}
        ])
    {%- endif -%}
{%- endmacro %}

{% macro log_data_quality_summary(results) -%}
    {#- on-run-end: print the rows kept aside by entity and reason, so the build output shows them. -#}
    {%- if execute -%}
        {%- set built = [] -%}
        {%- for result in results if result.node.name == 'data_quality_issues' and result.status == 'success' -%}
            {%- do built.append(result.node) -%}
        {%- endfor -%}
        {%- if built | length > 0 -%}
            {%- set relation = built[0].relation_name -%}
            {%- set counts = run_query(
                'select entity, reason, outcome, count(*) as row_count from ' ~ relation
                ~ ' group by all order by entity, row_count desc, reason'
            ) -%}
            {%- if counts | length == 0 -%}
                {{ log("data quality: every raw row was usable (data_quality_issues is empty)", info=true) }}
            {%- else -%}
                {{ log("data quality: rows kept aside in data_quality_issues (entity / reason / outcome: rows)", info=true) }}
                {%- for row in counts -%}
                    {{ log("  " ~ row[0] ~ " / " ~ row[1] ~ " / " ~ row[2] ~ ": " ~ row[3], info=true) }}
                {%- endfor -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
