-- Every landed refunds row with its verdict: the base table's rows (parsed, row checks), the
-- checks against orders and contacts, the choice between rows with the same key, and the raw row.
-- dq_failure is null on a usable row; else it gives the reason and column ({reason, column_name};
-- a row replaced by a later copy of its key is reason duplicate_key). Consumers read the usable
-- rows (`where dq_failure is null`); data_quality_issues reads the others.
{%- set raw_types = ingested_raw_types('refunds') %}
with

ingested as (
    select * from {{ ref('base_raw__refunds') }}
),

orders as (
    select
        order_id,
        contact_id
    from {{ ref('stg_raw__orders') }}
    where dq_failure is null
),

contacts as (
    select contact_id
    from {{ ref('stg_raw__contacts') }}
    where dq_failure is null
),

checked as {{ not_materialized() }} (
    -- Not materialized: the duplicate ranking reads it again, for the repeated keys only.
    select
        ingested.*,
        -- The refund's own contact, else the contact of the order it refunds.
        coalesce(ingested.given_contact_id, orders.contact_id) as contact_id,
        coalesce(
            ingested.dq_row_failure,
            {{ dq_first_failure([
                ("ingested.order_id is not null and orders.order_id is null and ingested.given_contact_id is null", 'unknown_order', 'order_id'),
                ("coalesce(ingested.given_contact_id, orders.contact_id) is null", 'missing_key', 'contact_id'),
                ("contacts.contact_id is null", 'unknown_contact', 'contact_id'),
            ]) }}
        ) as dq_failure
    from ingested
    left join orders
        on ingested.order_id = orders.order_id
    left join contacts
        on coalesce(ingested.given_contact_id, orders.contact_id) = contacts.contact_id
),

repeated_keys as (
    -- The keys held by two or more rows: the base table marks at least one row of each
    -- (key_seen_before), so only the rows of those keys are ranked, never the whole entity.
    select distinct key_hash
    from {{ ref('base_raw__refunds') }}
    where key_seen_before
),

duplicates as (
    -- The usable rows that another usable row with the same key replaces:
    -- the row with the latest refunded_at is kept, ties go to the later row in file order.
    -- A hash collision only adds candidates: the window partitions by the key itself.
    select
        checked._source_file,
        checked._source_row
    from checked
    semi join repeated_keys
        on checked.key_hash = repeated_keys.key_hash
    where checked.dq_failure is null
    qualify row_number() over (
        partition by checked.refund_id
        order by
            checked.refunded_at desc nulls last,
            checked._source_file desc,
            checked._source_row desc
    ) > 1
),

final as (
    select
        checked.refund_id,
        checked.order_id,
        checked.contact_id,
        checked.refunded_at,
        checked.amount_net,
        coalesce(
            checked.dq_failure,
            case
                when duplicates._source_row is not null
                    then {{ struct_of({'reason': "'duplicate_key'", 'column_name': "'refund_id'"}) }}
            end
        ) as dq_failure,
        checked.dq_emptied_columns,
        checked.refund_id as record_key,
        checked._source_file,
        checked._source_row,
        {{ ingest_raw_row('refunds', 'checked', raw_types, {'contact_id': 'given_contact_id'}) }} as raw_row
    from checked
    left join duplicates
        on
            checked._source_file = duplicates._source_file
            and checked._source_row = duplicates._source_row
)

select * from final
