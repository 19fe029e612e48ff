-- Every raw web_events row, parsed, with the checks that need only the row itself. Incremental:
-- a build reads only the files that are new or changed (see macros/ingest.sql).
{{ ingest_config('web_events') }}
{%- set raw_types = raw_column_types('web_events') %}
{%- set keys = [('event_id', clean_text('source.raw_event_id'))] %}
{%- set rules %}
parsed as (
    select
        {{ clean_text('raw_event_id') }} as event_id,
        {{ clean_text('raw_contact_id') }} as contact_id,
        {{ clean_text('raw_anonymous_id') }} as anonymous_id,
        {{ clean_text('raw_session_id') }} as session_id,
        lower({{ clean_text('raw_event_type') }}) as event_type,
        {{ parse_timestamp('raw_occurred_at', raw_types.get('occurred_at')) }} as occurred_at,
        {{ clean_text('raw_product_id') }} as product_id,
        {{ clean_text('raw_page_url') }} as page_url,
        {{ parse_double('raw_duration_seconds') }} as duration_seconds,
        lower({{ clean_text('raw_channel') }}) as channel,
        source.*
    from source
),

checked as (
    select
        parsed.*,
        {{ dq_first_failure([
            ("parsed.event_id is null", 'missing_key', 'event_id'),
            (is_unparseable('parsed.raw_occurred_at', 'parsed.occurred_at'), 'unparseable_timestamp', 'occurred_at'),
            ("parsed.occurred_at is null", 'missing_required_value', 'occurred_at'),
            ("parsed.event_type is null", 'missing_required_value', 'event_type'),
            ("parsed.event_type not in ('page_view', 'product_view', 'add_to_cart', 'checkout_started', 'search', 'social_interaction')", 'unknown_event_type', 'event_type'),
        ]) }} as dq_row_failure,
        {{ dq_emptied_columns([
            (is_unparseable('parsed.raw_duration_seconds', 'parsed.duration_seconds'), 'duration_seconds'),
        ]) }} as dq_emptied_columns
    from parsed
)
{%- endset %}

{{ ingest_model(
    'web_events', rules, keys,
    raw_types,
) }}
