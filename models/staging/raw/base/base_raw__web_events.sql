{%- set raw_types = raw_column_types('web_events') %}
with

source as (
    {{ read_raw_entity('web_events') }}
),

contacts as (
    select contact_id from {{ ref('stg_raw__contacts') }}
),

parsed as (
    select
        {{ clean_text('source.raw_event_id') }} as event_id,
        {{ clean_text('source.raw_contact_id') }} as contact_id,
        {{ clean_text('source.raw_anonymous_id') }} as anonymous_id,
        {{ clean_text('source.raw_session_id') }} as session_id,
        lower({{ clean_text('source.raw_event_type') }}) as event_type,
        {{ parse_timestamp('source.raw_occurred_at', raw_types.get('occurred_at')) }} as occurred_at,
        {{ clean_text('source.raw_product_id') }} as product_id,
        {{ clean_text('source.raw_page_url') }} as page_url,
        {{ parse_double('source.raw_duration_seconds') }} as duration_seconds,
        lower({{ clean_text('source.raw_channel') }}) as channel,
        {{ raw_columns('web_events', 'source') }},
        source._source_file,
        source._source_row
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
            ("parsed.contact_id is not null and contacts.contact_id is null", 'unknown_contact', 'contact_id'),
        ]) }} as dq_failure,
        {{ dq_emptied_columns([
            (is_unparseable('parsed.raw_duration_seconds', 'parsed.duration_seconds'), 'duration_seconds'),
        ]) }} as dq_emptied_columns
    from parsed
    left join contacts
        on parsed.contact_id = contacts.contact_id
),

final as (
    select
        event_id,
        contact_id,
        anonymous_id,
        session_id,
        event_type,
        occurred_at,
        product_id,
        page_url,
        duration_seconds,
        channel,
        event_id as record_key,
        {{ dq_columns('web_events') }}
    from checked
)

select * from final
