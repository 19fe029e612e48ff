{#- Small generic tests (no dbt packages can be installed here). -#}

{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{% test expression_is_true(model, expression, column_name=none) %}
    select * from {{ model }} where not ({{ expression }})
{% endtest %}

{% test row_count_equals_model(model, compare_model) %}
    -- Every row of compare_model has exactly one row here, and nothing else.
    with counts as (
        select
            (select count(*) from {{ model }}) as model_rows,
            (select count(*) from {{ compare_model }}) as compare_rows
    )
    select * from counts where model_rows <> compare_rows
{% endtest %}
