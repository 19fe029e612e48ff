{#-
    Helpers that let every staging model keep the rows it cannot use instead of dropping them.
    A base model (staging/*/base) tags each raw row with the first failed row check
    (`dq_failure`: {reason, column}), the optional columns whose values could not be read and
    were emptied (`dq_emptied_columns`), and a duplicate rank. Staging keeps the clean rows; the
    mart data_quality_issues keeps the others, with the raw row.
-#}

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
        list_sort(list_distinct([
        {%- for condition, column in checks %}
            case when {{ condition }} then '{{ column }}' end{% if not loop.last %},{% endif %}
        {%- endfor %}
        ]))
    {%- endif -%}
{%- endmacro %}

{% macro dq_duplicate_rank(key_columns, order_by) -%}
    {#- 1 for the row kept per key among usable rows, 2+ for the duplicates it replaces. -#}
    case
        when dq_failure is null
            then row_number() over (
                partition by {{ key_columns | join(', ') }}, dq_failure is null
                order by {{ order_by }}, _source_file desc, _source_row desc
            )
    end
{%- endmacro %}

{% macro dq_finalise(key_expression) -%}
    {#- Standard columns every base model ends with. -#}
    coalesce(
        dq_failure,
        case when dq_duplicate_rank > 1 then {'reason': 'duplicate_key', 'column_name': '{{ key_expression }}'} end
    ) as dq_failure,
    dq_emptied_columns,
    _source_file,
    _source_row,
    raw_row
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
