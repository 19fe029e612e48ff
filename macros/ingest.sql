{#-
    Incremental ingestion of the raw contract (models/staging/raw/base), from the landing tables
    segment-warehouse-land fills (dbt source `raw`, one table per entity, each row with its file,
    row and file fingerprint).

    A `base_raw__<entity>` model is an incremental table holding every raw row of the entity,
    parsed, with the checks that need nothing but the row itself (`dq_row_failure`,
    `dq_emptied_columns`). Each build reads only the landed files it has not ingested yet: a
    file is known by its fingerprint (path, size, modification time, set by the loader) and by the
    version of the parsing rules (a hash of the rendered SQL that parses it and of the landed
    types). A new file is read; a changed file is read again and replaces its old rows; a file
    that is gone takes its rows with it; new rules (a changed model or macro) read every file
    again. `dbt build --full-refresh` reads everything.

    The checks that look at other entities (unknown contact, unknown order, exchange rate) and the
    choice between duplicate rows run at read time, in the stg_raw__<entity> views, so they always follow the
    latest contacts and orders.

    What a row keeps of its raw values: only those the parsed value cannot give back
    (`raw_<column>` is null when `cast(<parsed> as <raw type>)` equals the raw value); the raw row
    shown in data_quality_issues is rebuilt from the two (`ingest_raw_row`), identical to the file.

    Duplicate keys: `key_seen_before` is true on a row whose key was already ingested, or repeats
    within its batch. For every key held by two or more rows, the row ingested last carries it,
    so the rows to rank are found without aggregating the whole entity (see the duplicates CTE of stg_raw__<entity>).
-#}

{% macro ingest_config(entity) -%}
    {#- The config every ingest model shares. -#}
    {{ config(
        materialized=('incremental' if target.type == 'duckdb' else 'table'),
        incremental_strategy='delete+insert',
        unique_key='_source_file',
        on_schema_change='sync_all_columns',
        pre_hook="{{ ingest_forget_stale_files('" ~ entity ~ "') }}",
    ) }}
{%- endmacro %}

{% macro ingest_format_version() -%}
    {#- Bump when the shape of the ingest tables or of ingest_model changes: every file is read again. -#}
    ingest-2026-12-06
{%- endmacro %}

{% macro landed_fingerprints(entity) -%}
    {#- The fingerprints of the files landed for `entity` (segment-warehouse-land), as a list. -#}
    {%- if not execute or source_system() != 'raw' -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set landed = run_query(
        'select distinct _source_fingerprint from ' ~ raw_landing_relation(entity) ~ ' order by 1'
    ) -%}
    {{ return(landed.columns[0].values() | list) }}
{%- endmacro %}

{% macro ingest_batch(entity, rules_version, raw_types) -%}
    {#-
        The landed files this build reads: all of them on a first build or a full refresh, else
        those whose fingerprint, under the current rules, is not in the table yet.
    -#}
    {%- set landed = landed_fingerprints(entity) -%}
    {%- set todo = [] -%}
    {%- if landed | length > 0 and is_incremental() -%}
        {%- set done_rows = run_query(
            'select distinct _source_fingerprint from ' ~ this
            ~ ' where _ingest_version = ' ~ sql_string(rules_version)
        ) -%}
        {%- set done = done_rows.columns[0].values() | list -%}
        {%- for fingerprint in landed if fingerprint not in done -%}
            {%- do todo.append(fingerprint) -%}
        {%- endfor -%}
        {{ log("ingest " ~ entity ~ ": " ~ todo | length ~ " of " ~ landed | length ~ " files new or changed", info=true) }}
    {%- else -%}
        {%- for fingerprint in landed -%}
            {%- do todo.append(fingerprint) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return({
        'fingerprints': todo,
        'all_files': not is_incremental(),
        'types': raw_types,
    }) }}
{%- endmacro %}

{% macro ingest_forget_stale_files(entity) -%}
    {#- pre-hook: rows of files that are no longer landed (gone or changed) leave the table. -#}
    {%- if is_incremental() -%}
        delete from {{ this }}
        {%- if source_system() == 'raw' %}
        where _source_fingerprint not in (
            select distinct landing._source_fingerprint from {{ raw_landing_relation(entity) }} as landing
        )
        {%- endif %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro ingest_rules_version(rules, keys, raw_types) -%}
    {#- A hash of the rules, the keys and the landed columns' types: a change reads every file again. -#}
    {%- set key_text = [] -%}
    {%- for column, expression in keys -%}{%- do key_text.append(column ~ '=' ~ expression) -%}{%- endfor -%}
    {%- set type_text = [] -%}
    {%- for column, raw_type in raw_types.items() | sort -%}{%- do type_text.append(column ~ ':' ~ raw_type) -%}{%- endfor -%}
    {{ return(local_md5(
        ingest_format_version() ~ '\n' ~ (key_text | join('\n')) ~ '\n' ~ (type_text | join(','))
        ~ '\n' ~ parsing_functions_sql() ~ '\n' ~ rules
    )) }}
{%- endmacro %}

{% macro ingest_model(entity, rules, keys, raw_types, raw_sources={}) -%}
    {#-
        The whole query of an ingest model. rules: the model's own CTEs, `parsed` (over `source`,
        the raw reader) then `checked`, which ends with the parsed columns, raw_<column> columns,
        dq_row_failure, dq_emptied_columns, _source_file, _source_row and _source_fingerprint.
        keys: (key column, its expression over source.raw_<column>), as `parsed` computes it.
        Every column of `checked` is kept, the raw values only where the parsed value cannot give
        them back (segment_raw_if_lost). raw_sources: {contract column: parsed column} where the
        names differ.
    -#}
    {%- set rules_version = ingest_rules_version(rules, keys, raw_types) -%}
    {%- set batch = ingest_batch(entity, rules_version, raw_types) -%}
    {%- set key_columns = [] -%}
    {%- for column, expression in keys -%}{%- do key_columns.append(column) -%}{%- endfor -%}
    {#- The contract columns the key expressions read (the batch_keys reader reads only those). -#}
    {%- set key_raw_columns = [] -%}
    {%- for column in raw_entity(entity)['columns'] -%}
        {%- if ('source.raw_' ~ column) in (keys | map('last') | join(' ')) -%}
            {%- do key_raw_columns.append(column) -%}
        {%- endif -%}
    {%- endfor -%}
with

source as (
    {{ read_raw_entity(entity, batch) }}
),

{{ rules }},

keyed as (
    select
        *,
        case
            when {{ key_columns | join(' is not null and ') }} is not null
                then {{ row_key_hash(key_columns) }}
        end as key_hash
    from checked
),

batch_keys as (
    -- The key hashes of this batch, from a reader of their own (of the key's columns only): a
    -- second reference to the parsed rows would make DuckDB materialise them.
    select {{ row_key_hash(key_columns) }} as key_hash
    from (
        select
        {%- for column, expression in keys %}
            {{ expression }} as {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
        from ({{ read_raw_entity(entity, batch, key_raw_columns) }}) as source
    ) as batch_key_values
    where {{ key_columns | join(' is not null and ') }} is not null
),

repeated_keys as (
    -- Distinct (union): keys repeated within the batch, and keys the batch shares with rows
    -- already ingested (probing the table with the batch).
    select key_hash
    from batch_keys
    group by key_hash
    having count(*) > 1
    {%- if is_incremental() %}

    union

    select ingested.key_hash
    from {{ this }} as ingested
    semi join batch_keys
        on ingested.key_hash = batch_keys.key_hash
    {%- endif %}
),

final as (
    select
        -- the raw values, null where the parsed value gives them back
        {%- set replacements = [] %}
        {%- for column in raw_entity(entity)['columns'] %}
            {%- do replacements.append(('raw_' ~ column, raw_if_lost(
                'raw_' ~ column, raw_sources.get(column, column), raw_types.get(column, type_of_text())
            ))) %}
        {%- endfor %}
        {{ star_replace('keyed', replacements) }},
        repeated_keys.key_hash is not null as key_seen_before,
        {{ sql_string(rules_version) }} as _ingest_version
    from keyed
    left join repeated_keys
        on keyed.key_hash = repeated_keys.key_hash
)

select * from final
{%- endmacro %}

{% macro ingest_raw_row(entity, relation, raw_types, raw_sources={}) -%}
    {#- The raw row under its contract names, rebuilt from an ingest table's columns
        (relation: their qualifier, or none). -#}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {%- set fields = {} -%}
    {%- for column in raw_entity(entity)['columns'] -%}
        {%- set raw_type = raw_types.get(column, type_of_text()) -%}
        {%- do fields.update({column: 'coalesce(' ~ prefix ~ 'raw_' ~ column ~ ', try_cast(' ~ prefix ~ raw_sources.get(column, column) ~ ' as ' ~ raw_type ~ '))'}) -%}
    {%- endfor -%}
    {{ struct_of(fields) }}
{%- endmacro %}

{% macro ingested_raw_types(entity) -%}
    {#-
        {contract column: type of its raw_<column> in the ingest table}: the types the raw values
        were stored with, read from the table (the stg_raw views do not look at the files).
    -#}
    {%- set types = {} -%}
    {%- if execute -%}
        {%- set relation = load_relation(ref('base_raw__' ~ entity)) -%}
        {%- if relation is not none -%}
            {%- for column in adapter.get_columns_in_relation(relation) if column.name.startswith('raw_') -%}
                {%- do types.update({column.name[4:]: column.dtype}) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(types) }}
{%- endmacro %}
