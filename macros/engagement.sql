{#- Helpers of the engagement, nurturing score and profile models. -#}

{% macro nurturing_interaction_types() -%}
    {#- The interaction types of SPEC section 5, each with a points column in customer_scores. Other
        types given points in seed nurturing_score_weights add to `other_points`. -#}
    {{ return(['page_view', 'product_view', 'add_to_cart', 'checkout_started', 'email_open', 'email_click', 'social_interaction']) }}
{%- endmacro %}

{% macro haversine_km(latitude_1, longitude_1, latitude_2, longitude_2) -%}
    {#- Great-circle distance in km between two points in degrees (mean Earth radius 6371.0088 km). -#}
    2 * 6371.0088 * asin(sqrt(least(1.0,
        pow(sin(radians({{ latitude_2 }} - {{ latitude_1 }}) / 2), 2)
        + cos(radians({{ latitude_1 }})) * cos(radians({{ latitude_2 }}))
        * pow(sin(radians({{ longitude_2 }} - {{ longitude_1 }}) / 2), 2)
    )))
{%- endmacro %}
