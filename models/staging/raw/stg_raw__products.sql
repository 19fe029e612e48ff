-- Every landed products row with its verdict: the base table's rows (parsed, row checks), the
-- choice between rows with the same key, and the raw row. dq_failure is null on a usable row; else
-- it gives the reason and column ({reason, column_name}; a row replaced by a later copy of its key
-- is reason duplicate_key). Consumers read the usable rows (`where dq_failure is null`);
-- data_quality_issues reads the others.
{%- set raw_types = ingested_raw_types('products') %}
with

ingested as (
    select * from {{ ref('base_raw__products') }}
),

checked as {{ not_materialized() }} (
    -- No check against other entities: the verdict is the row checks'. Not materialized: the
    -- duplicate ranking reads it again, for the repeated keys only.
    select
        ingested.*,
        ingested.dq_row_failure as dq_failure
    from ingested
),

repeated_keys as (
    -- The keys held by two or more rows: the base table marks at least one row of each
    -- (key_seen_before), so only the rows of those keys are ranked, never the whole entity.
    select distinct key_hash
    from {{ ref('base_raw__products') }}
    where key_seen_before
),

duplicates as (
    -- The usable rows that another usable row with the same key replaces:
    -- the row with the last product_name is kept, ties go to the later row in file order.
    -- A hash collision only adds candidates: the window partitions by the key itself.
    select
        checked._source_file,
        checked._source_row
    from checked
    semi join repeated_keys
        on checked.key_hash = repeated_keys.key_hash
    where checked.dq_failure is null
    qualify row_number() over (
        partition by checked.product_id
        order by
            checked.product_name desc nulls last,
            checked._source_file desc,
            checked._source_row desc
    ) > 1
),

final as (
    select
        checked.product_id,
        checked.product_name,
        checked.category,
        checked.price_net,
        coalesce(
            checked.dq_failure,
            case
                when duplicates._source_row is not null
                    then {{ struct_of({'reason': "'duplicate_key'", 'column_name': "'product_id'"}) }}
            end
        ) as dq_failure,
        checked.dq_emptied_columns,
        checked.product_id as record_key,
        checked._source_file,
        checked._source_row,
        {{ ingest_raw_row('products', 'checked', raw_types) }} as raw_row
    from checked
    left join duplicates
        on
            checked._source_file = duplicates._source_file
            and checked._source_row = duplicates._source_row
)

select * from final
