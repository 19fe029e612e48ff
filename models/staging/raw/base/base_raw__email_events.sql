{%- set raw_types = raw_column_types('email_events') %}
with

source as (
    {{ read_raw_entity('email_events') }}
),

contacts as (
    select contact_id from {{ ref('stg_raw__contacts') }}
),

parsed as (
    select
        {{ clean_text('source.raw_event_id') }} as event_id,
        {{ clean_text('source.raw_contact_id') }} as contact_id,
        {{ clean_text('source.raw_campaign_id') }} as campaign_id,
        lower({{ clean_text('source.raw_event_type') }}) as event_type,
        {{ parse_timestamp('source.raw_occurred_at', raw_types.get('occurred_at')) }} as occurred_at,
        {{ raw_columns('email_events', 'source') }},
        source._source_file,
        source._source_row
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
            ("contacts.contact_id is null", 'unknown_contact', 'contact_id'),
        ]) }} as dq_failure,
        {{ dq_emptied_columns([]) }} as dq_emptied_columns
    from parsed
    left join contacts
        on parsed.contact_id = contacts.contact_id
),

final as (
    select
        event_id,
        contact_id,
        campaign_id,
        event_type,
        occurred_at,
        event_id as record_key,
        {{ dq_columns('email_events') }}
    from checked
)

select * from final
