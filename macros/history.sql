{#- Helpers of the membership history models (models/marts/history). -#}

{% macro forget_membership_changes_of_build() -%}
    {#- pre-hook of segment_membership_changes: drop the rows this build recomputes (as_of_date and
        the built date just after it; see the model). -#}
    {{ return(adapter.dispatch('forget_membership_changes_of_build', 'segment_warehouse')()) }}
{%- endmacro %}

{% macro duckdb__forget_membership_changes_of_build() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
            as_of_date = {{ as_of_date() }}
            or as_of_date = (
                select min(history.as_of_date)
                from {{ ref('segment_membership_history') }} as history
                where history.as_of_date > {{ as_of_date() }}
            )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro default__forget_membership_changes_of_build() -%}
    {#- Spark: the table is partitioned by as_of_date; the two dates' partitions are dropped. -#}
    {%- if execute and is_incremental() -%}
        {%- set next_date_sql -%}
            select cast(min(history.as_of_date) as string) as next_date
            from {{ ref('segment_membership_history') }} as history
            where history.as_of_date > {{ as_of_date() }}
        {%- endset -%}
        {%- set next_date = run_query(next_date_sql).columns[0].values()[0] -%}
        {%- set dates = ["'" ~ (as_of_date() | trim)[6:16] ~ "'"] -%}
        {%- if next_date -%}
            {%- do dates.append("'" ~ next_date ~ "'") -%}
        {%- endif -%}
        {{ drop_partitions_statement(this, 'as_of_date', dates) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
