-- Every raw contacts row, parsed, with the checks that need only the row itself. Incremental:
-- a build reads only the files that are new or changed (see macros/ingest.sql).
{{ ingest_config('contacts') }}
{%- set raw_types = raw_column_types('contacts') %}
{%- set keys = [('contact_id', clean_text('source.raw_contact_id'))] %}
{%- set rules %}
parsed as (
    select
        {{ clean_text('raw_contact_id') }} as contact_id,
        lower({{ clean_text('raw_email') }}) as email,
        {{ clean_text('raw_first_name') }} as first_name,
        {{ clean_text('raw_last_name') }} as last_name,
        {{ parse_timestamp('raw_created_at', raw_types.get('created_at')) }} as created_at,
        {{ parse_timestamp('raw_subscribed_at', raw_types.get('subscribed_at')) }} as subscribed_at,
        {{ parse_boolean('raw_email_consent') }} as email_consent,
        {{ parse_boolean('raw_sms_consent') }} as sms_consent,
        {{ parse_timestamp('raw_unsubscribed_at', raw_types.get('unsubscribed_at')) }}
            as unsubscribed_at,
        {{ parse_date('raw_birth_date', raw_types.get('birth_date')) }} as birth_date,
        lower({{ clean_text('raw_gender') }}) as gender,
        {{ clean_text('raw_city') }} as city,
        {{ clean_text('raw_region') }} as region,
        upper({{ clean_text('raw_country_code') }}) as country_code,
        {{ clean_text('raw_postal_code') }} as postal_code,
        {{ parse_double('raw_latitude') }} as latitude,
        {{ parse_double('raw_longitude') }} as longitude,
        lower({{ clean_text('raw_acquisition_source') }}) as acquisition_source,
        source.*
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
    raw_types,
) }}
