-- Every raw row that could not be used as it was: rejected rows and emptied values, with the
-- reason and the raw row, so nothing is dropped silently.
{#- (entity, the model that gives every landed row its verdict). The raw contract's stg_raw views
    also mark a row that a later copy of its key replaces (duplicate_key). -#}
{%- set entities = [
    ('contacts', 'stg_raw__contacts'),
    ('orders', 'stg_raw__orders'),
    ('refunds', 'stg_raw__refunds'),
    ('order_items', 'stg_raw__order_items'),
    ('products', 'stg_raw__products'),
    ('carts', 'stg_raw__carts'),
    ('web_events', 'stg_raw__web_events'),
    ('email_events', 'stg_raw__email_events'),
    ('online_retail_lines', 'base_online_retail__lines'),
    ('shopify_customers', 'base_shopify__customers'),
    ('shopify_orders', 'base_shopify__orders'),
    ('shopify_refunds', 'base_shopify__refunds'),
    ('shopify_refund_lines', 'base_shopify__refund_lines'),
] %}

with

{% for entity, model in entities %}
{{ entity }}_flagged_rows as (
    -- Which rows have a failed check or an emptied value, from the few columns the checks need.
    select
        _source_file,
        _source_row
    from {{ ref(model) }}
    where dq_failure is not null or {{ list_length('dq_emptied_columns') }} > 0
),

{{ entity }}_checked as (
    -- Only those rows are then read whole; the raw row becomes JSON only for them. (Filtering the
    -- whole rows instead makes every column of every row travel through the checks' joins.) A
    -- duplicate (dq_failure duplicate_key) is reported once, not for its emptied values as well.
    select
        '{{ entity }}' as entity,
        checked_row.record_key,
        checked_row.dq_failure,
        checked_row.dq_emptied_columns,
        checked_row._source_file,
        checked_row._source_row,
        {{ row_to_json('checked_row.raw_row') }} as raw_row
    from {{ ref(model) }} as checked_row
    semi join {{ entity }}_flagged_rows as flagged_rows
        on
            checked_row._source_file = flagged_rows._source_file
            and checked_row._source_row = flagged_rows._source_row
),

{% endfor %}
flagged as (
    {%- for entity, model in entities %}
    select * from {{ entity }}_checked
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

rejected_rows as (
    select
        flagged.entity,
        flagged.record_key,
        dq_failure.column_name,
        dq_failure.reason,
        case
            when
                dq_failure.reason = 'duplicate_key' or dq_failure.reason = 'duplicate_row'
                then 'duplicate_dropped'
            else 'row_rejected'
        end as outcome,
        flagged._source_file,
        flagged._source_row,
        flagged.raw_row
    from flagged
    where flagged.dq_failure is not null
),

emptied_values as (
    select
        entity,
        record_key,
        {{ unnest_list('dq_emptied_columns') }} as column_name,
        'unparseable_value' as reason,
        'value_emptied' as outcome,
        _source_file,
        _source_row,
        raw_row
    from flagged
    where dq_failure is null
),

issues as (
    select * from rejected_rows
    union all
    select * from emptied_values
),

final as (
    select
        entity,
        _source_file as source_file,
        cast(_source_row as bigint) as source_row,
        record_key,
        column_name,
        reason,
        outcome,
        case
            when column_name = 'all columns' then null
            else {{ json_text_at('raw_row', "'$.' || split_part(column_name, ',', 1)") }}
        end as raw_value,
        raw_row,
        {{ as_of_date() }} as as_of_date
    from issues
)

select * from final
