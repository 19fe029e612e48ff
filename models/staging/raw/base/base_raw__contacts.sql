-- Every raw contacts row, parsed, with the checks that need only the row itself. Incremental:
-- a build reads only the files that are new or changed (see macros/ingest.sql).
{{ ingest_config('contacts') }}
{%- set raw_types = raw_column_types('contacts') %}
{%- set keys = [('contact_id', clean_text('source.raw_contact_id'))] %}
{%- set rules %}
parsed as (
    select
        {{ clean_text('source.raw_contact_id') }} as contact_id,
        lower({{ clean_text('source.raw_email') }}) as email,
        {{ clean_text('source.raw_first_name') }} as first_name,
        {{ clean_text('source.raw_last_name') }} as last_name,
        {{ parse_timestamp('source.raw_created_at', raw_types.get('created_at')) }} as created_at,
        {{ parse_timestamp('source.raw_subscribed_at', raw_types.get('subscribed_at')) }} as subscribed_at,
        {{ parse_boolean('source.raw_email_consent') }} as email_consent,
        {{ parse_boolean('source.raw_sms_consent') }} as sms_consent,
        {{ parse_timestamp('source.raw_unsubscribed_at', raw_types.get('unsubscribed_at')) }}
            as unsubscribed_at,
        {{ parse_date('source.raw_birth_date', raw_types.get('birth_date')) }} as birth_date,
        lower({{ clean_text('source.raw_gender') }}) as gender,
        {{ clean_text('source.raw_city') }} as city,
        {{ clean_text('source.raw_region') }} as region,
        upper({{ clean_text('source.raw_country_code') }}) as country_code,
        {{ clean_text('source.raw_postal_code') }} as postal_code,
        {{ parse_double('source.raw_latitude') }} as latitude,
        {{ parse_double('source.raw_longitude') }} as longitude,
        lower({{ clean_text('source.raw_acquisition_source') }}) as acquisition_source,
        {{ raw_columns('contacts', 'source') }},
        source._source_file,
        source._source_row,
        source._source_fingerprint
    from source
),

checked as (
    select
        *,
        {{ dq_first_failure([
            ("contact_id is null", 'missing_key', 'contact_id'),
        ]) }} as dq_row_failure,
        {{ dq_emptied_columns([
            (is_unparseable('raw_created_at', 'created_at'), 'created_at'),
            (is_unparseable('raw_subscribed_at', 'subscribed_at'), 'subscribed_at'),
            (is_unparseable('raw_unsubscribed_at', 'unsubscribed_at'), 'unsubscribed_at'),
            (is_unparseable('raw_birth_date', 'birth_date'), 'birth_date'),
            (is_unparseable('raw_email_consent', 'email_consent'), 'email_consent'),
            (is_unparseable('raw_sms_consent', 'sms_consent'), 'sms_consent'),
            (is_unparseable('raw_latitude', 'latitude'), 'latitude'),
            (is_unparseable('raw_longitude', 'longitude'), 'longitude'),
        ]) }} as dq_emptied_columns
    from parsed
)
{%- endset %}

{{ ingest_model(
    'contacts', rules, keys,
    [
        'contact_id', 'email', 'first_name', 'last_name', 'created_at', 'subscribed_at',
        'email_consent', 'sms_consent', 'unsubscribed_at', 'birth_date', 'gender', 'city', 'region',
        'country_code', 'postal_code', 'latitude', 'longitude', 'acquisition_source',
    ],
    raw_types,
) }}
