{#-
    Helpers that let every staging model keep the rows it cannot use instead of dropping them.
    A base model (staging/*/base, a view) tags each raw row with the first failed row check
    (`dq_failure`: {reason, column}) and the optional columns whose values could not be read and
    were emptied (`dq_emptied_columns`). A small `<base>_duplicates` table lists the usable rows
    that lose to a later copy of their key. Staging keeps the clean rows; the mart
    data_quality_issues keeps the others, with the raw row (as JSON, built only for them).
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
        {#- The list is only built for the rows where one check holds. -#}
        case
            when {% for condition, column in checks %}{{ condition }}{% if not loop.last %} or {% endif %}{% endfor %}
                then list_sort(list_distinct([
                {%- for condition, column in checks %}
                    case when {{ condition }} then '{{ column }}' end{% if not loop.last %},{% endif %}
                {%- endfor %}
                ]))
            else cast([] as varchar [])
        end
    {%- endif -%}
{%- endmacro %}

{% macro dq_duplicates(entity, keys, order_by) -%}
    {#-
        The body of a `base_raw__<entity>_duplicates` model: the usable rows that lose to another
        usable row with the same key (the latest by `order_by` wins, ties go to the later row in
        file order). keys: the key columns. The ingest table marks, for every key held by two or
        more rows, at least one of them (`key_seen_before`, see macros/ingest.sql); only the rows of
        those keys are ranked, so no aggregate, window or join runs over the whole entity.
    -#}
    {%- set base_model = 'base_raw__' ~ entity -%}
    with

    repeated_keys as (
        -- A hash collision only adds candidates; the ranking below partitions by the key itself.
        select distinct key_hash
        from {{ ref('ingest_raw__' ~ entity) }}
        where key_seen_before
    ),

    candidates as (
        select
            base.record_key,
            base._source_file,
            base._source_row,
            base.dq_emptied_columns,
            base.raw_row,
            row_number() over (
                partition by {% for column in keys %}base.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
                order by {{ order_by }}, base._source_file desc, base._source_row desc
            ) as duplicate_rank
        from {{ ref(base_model) }} as base
        semi join repeated_keys
            on base.key_hash = repeated_keys.key_hash
        where base.dq_failure is null
    ),

    final as (
        select
            record_key,
            '{{ keys | join(', ') }}' as key_columns,
            _source_file,
            _source_row,
            dq_emptied_columns,
            to_json(raw_row) as raw_row
        from candidates
        where duplicate_rank > 1
    )

    select * from final
{%- endmacro %}

{% macro dq_ingested_columns(entity, raw_types, raw_sources={}) -%}
    {#- The columns every raw-contract base model ends with (over an ingest table's columns). -#}
    dq_failure,
    dq_emptied_columns,
    _source_file,
    _source_row,
    {{ ingest_raw_row(entity, none, raw_types, raw_sources) }} as raw_row
{%- endmacro %}

{% macro dq_usable_rows(base_model, duplicates_model) -%}
    {#- The rows of `base_model` that staging keeps: no failed check, not a dropped duplicate. -#}
    select base.*
    from {{ ref(base_model) }} as base
    anti join {{ ref(duplicates_model) }} as duplicates
        on
            base._source_file = duplicates._source_file
            and base._source_row = duplicates._source_row
    where base.dq_failure is null
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
