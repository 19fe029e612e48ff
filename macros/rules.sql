{#- Rules over one contact's columns, shared by the marts and purchase propensity's features (SPEC
    section 10 computes them at an earlier date too). -#}

{% macro lifecycle_stage(orders_count, days_since_last_order) -%}
    {#- SPEC section 2: the lifecycle stage of a contact with `orders_count` valid orders, the last
        `days_since_last_order` days before the as-of date (vars lapsed_days, active_days,
        loyal_min_orders). -#}
    case
        when {{ orders_count }} = 0 then 'prospect'
        when {{ days_since_last_order }} > {{ int_var('lapsed_days') }} then 'lapsed'
        when {{ days_since_last_order }} > {{ int_var('active_days') }} then 'at_risk'
        when {{ orders_count }} >= {{ int_var('loyal_min_orders') }} then 'loyal'
        when {{ orders_count }} >= 2 then 'active'
        else 'new'
    end
{%- endmacro %}

{% macro nurturing_score(total_points) -%}
    {#- SPEC section 5: the decayed points of a contact (null = none) capped at var score_cap, rounded
        to 2 decimals. -#}
    round(least(coalesce({{ total_points }}, 0), {{ number_var('score_cap') }}), 2)
{%- endmacro %}
