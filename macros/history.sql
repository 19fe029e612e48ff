{#- Helpers of the membership history models (models/marts/history). -#}

{% macro forget_membership_changes_of_build() -%}
    {#- pre-hook of segment_membership_changes: drop the rows this build recomputes (as_of_date and
        the built date just after it; see the model). -#}
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
