-- Every raw email_events row, parsed, with the checks that need only the row itself. Incremental:
-- a build reads only the files that are new or changed (see macros/ingest.sql).
{{ ingest_config('email_events') }}
{%- set raw_types = raw_column_types('email_events') %}
{%- set keys = [('event_id', clean_text('source.raw_event_id'))] %}
{%- set rules %}
parsed as (
    select
        {{ clean_text('raw_event_id') }} as event_id,
        {{ clean_text('raw_contact_id') }} as contact_id,
        {{ clean_text('raw_campaign_id') }} as campaign_id,
        lower({{ clean_text('raw_event_type') }}) as event_type,
        {{ parse_timestamp('raw_occurred_at', raw_types.get('occurred_at')) }} as occurred_at,
        source.*
    from source
),

checked as (
    select
        parsed.*,
        {{ dq_first_failure([
            ("parsed.event_id is null", 'missing_key', 'event_id'),
            ("parsed.contact_id is null", 'missing_key', 'contact_id'),
            (is_unparseable('parsed.raw_occurred_at', 'parsed.occurred_at'), 'unparseable_timestamp', 'occurred_at'),
            ("parsed.occurred_at is null", 'missing_required_value', 'occurred_at'),
            ("parsed.event_type is null", 'missing_required_value', 'event_type'),
            ("parsed.event_type not in ('sent', 'delivered', 'open', 'click', 'bounce', 'unsubscribe', 'complaint')", 'unknown_event_type', 'event_type'),
        ]) }} as dq_row_failure,
        {{ dq_emptied_columns([]) }} as dq_emptied_columns
    from parsed
)
{%- endset %}

{{ ingest_model(
    'email_events', rules, keys,
    raw_types,
) }}
