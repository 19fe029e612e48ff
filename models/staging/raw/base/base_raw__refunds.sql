-- Every raw refunds row, parsed, with the checks that need only the row itself. Incremental:
-- a build reads only the files that are new or changed (see macros/ingest.sql).
{{ ingest_config('refunds') }}
{%- set raw_types = raw_column_types('refunds') %}
{%- set keys = [('refund_id', clean_text('source.raw_refund_id'))] %}
{%- set rules %}
parsed as (
    select
        {{ clean_text('raw_refund_id') }} as refund_id,
        {{ clean_text('raw_order_id') }} as order_id,
        {{ clean_text('raw_contact_id') }} as given_contact_id,
        {{ parse_timestamp('raw_refunded_at', raw_types.get('refunded_at')) }} as refunded_at,
        {{ parse_decimal('raw_amount_net') }} as amount_net,
        source.*
    from source
),

checked as (
    select
        parsed.*,
        {{ dq_first_failure([
            ("parsed.refund_id is null", 'missing_key', 'refund_id'),
            (is_unparseable('parsed.raw_refunded_at', 'parsed.refunded_at'), 'unparseable_timestamp', 'refunded_at'),
            (is_unparseable('parsed.raw_amount_net', 'parsed.amount_net'), 'unparseable_number', 'amount_net'),
            ("parsed.refunded_at is null", 'missing_required_value', 'refunded_at'),
            ("parsed.amount_net is null", 'missing_required_value', 'amount_net'),
            ("parsed.amount_net < 0", 'negative_amount', 'amount_net'),
        ]) }} as dq_row_failure,
        {{ dq_emptied_columns([]) }} as dq_emptied_columns
    from parsed
)
{%- endset %}

{{ ingest_model(
    'refunds', rules, keys,
    raw_types,
    raw_sources={'contact_id': 'given_contact_id'},
) }}
