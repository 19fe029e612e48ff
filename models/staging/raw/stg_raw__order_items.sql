-- Every landed order_items row with its verdict: the base table's rows (parsed, row checks) and
-- the check that its order is known, with the order's contact, time, status and amount, the choice
-- between rows with the same key, and the raw row. dq_failure is null on a usable row; else it
-- gives the reason and column ({reason, column_name}; a row replaced by a later copy of its key is
-- reason duplicate_key). Consumers read the usable rows (`where dq_failure is null`);
-- data_quality_issues reads the others.
{%- set raw_types = ingested_raw_types('order_items') %}
with

ingested as (
    select * from {{ ref('base_raw__order_items') }}
),

orders as (
    -- The join that finds the line's order also brings the order's contact, time, status and net
    -- amount, so the per-contact models need no second join of every line against every order.
    select
        order_id,
        contact_id,
        ordered_at,
        status,
        amount_net
    from {{ ref('stg_raw__orders') }}
    where dq_failure is null
),

checked as {{ not_materialized() }} (
    -- Not materialized: the duplicate ranking reads it again, for the repeated keys only.
    select
        ingested.*,
        orders.contact_id as order_contact_id,
        orders.ordered_at as order_ordered_at,
        orders.status as order_status,
        orders.amount_net as order_amount_net,
        coalesce(
            ingested.dq_row_failure,
            {{ dq_first_failure([
                ("orders.order_id is null", 'unknown_order', 'order_id'),
            ]) }}
        ) as dq_failure
    from ingested
    left join orders
        on ingested.order_id = orders.order_id
),

repeated_keys as (
    -- The keys held by two or more rows: the base table marks at least one row of each
    -- (key_seen_before), so only the rows of those keys are ranked, never the whole entity.
    select distinct key_hash
    from {{ ref('base_raw__order_items') }}
    where key_seen_before
),

duplicates as (
    -- The usable rows that another usable row with the same key replaces:
    -- the row with the largest quantity is kept, ties go to the later row in file order.
    -- A hash collision only adds candidates: the window partitions by the key itself.
    select
        checked._source_file,
        checked._source_row
    from checked
    semi join repeated_keys
        on checked.key_hash = repeated_keys.key_hash
    where checked.dq_failure is null
    qualify row_number() over (
        partition by checked.order_id, checked.line_number
        order by
            checked.quantity desc nulls last,
            checked._source_file desc,
            checked._source_row desc
    ) > 1
),

final as (
    select
        checked.order_id,
        checked.line_number,
        checked.product_id,
        checked.quantity,
        checked.unit_price_net,
        checked.order_contact_id as contact_id,
        checked.order_ordered_at as ordered_at,
        checked.order_status,
        checked.order_amount_net,
        coalesce(
            checked.dq_failure,
            case
                when duplicates._source_row is not null
                    then {{ struct_of({
                        'reason': "'duplicate_key'", 'column_name': "'order_id, line_number'"
                    }) }}
            end
        ) as dq_failure,
        checked.dq_emptied_columns,
        checked.order_id || '#' || checked.line_number as record_key,
        checked._source_file,
        checked._source_row,
        {{ ingest_raw_row('order_items', 'checked', raw_types) }} as raw_row
    from checked
    left join duplicates
        on
            checked._source_file = duplicates._source_file
            and checked._source_row = duplicates._source_row
)

select * from final
