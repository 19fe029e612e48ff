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
    {{ round_double('least(coalesce(' ~ total_points ~ ', 0), ' ~ number_var('score_cap') ~ ')', 2) }}
{%- endmacro %}

{% macro share_of_rank_tiers(rank, population, tiers, last_tier) -%}
    {#- SPEC section 10's rank rule, as the `when` branches of a case: the first tier whose var share
        s gives rank - 1 < s * population, in the order given ([(tier, var name), ...]); a ranked row
        past every share gets `last_tier`; an unranked row (rank null) none. Ties share a rank, so
        they share a tier. -#}
    {%- for tier, share_var in tiers %}
            when {{ rank }} - 1 < {{ number_var(share_var) }} * {{ population }} then '{{ tier }}'
    {%- endfor %}
            when {{ rank }} is not null then '{{ last_tier }}'
{%- endmacro %}

{% macro decile(order_by) -%}
    {#- The decile (1 = the first tenth) of a row in `order_by` order over the relation's N rows:
        1 + floor(10 * (row - 1) / N). -#}
    cast(1 + (10 * (row_number() over (order by {{ order_by }}) - 1)) // count(*) over () as integer)
{%- endmacro %}
