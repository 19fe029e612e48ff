{#-
    The activation email check (docs/operator.md, Activation), one expression for every model that
    decides whether an address may be sent (activation_members, activation_automation_steps), so
    their conditions stay identical: one @, a local part of letters, digits and ._%+'-,
    dot-separated domain labels and a top-level domain of 2+ letters. `address` is already trimmed
    and lower-cased; no address fails.
-#}
{% macro email_check(address) -%}
    coalesce(
        {{ regexp_full_match(address, "^[a-z0-9._%+''-]+@[a-z0-9-]+(\\.[a-z0-9-]+)*\\.[a-z]{2,}$") }},
        false
    )
{%- endmacro %}
