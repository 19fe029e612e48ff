{#-
    Incremental ingestion of the raw contract (models/staging/raw/ingest).

    An `ingest_raw__<entity>` model is an incremental table holding every raw row of the entity,
    parsed, with the checks that need nothing but the row itself (`dq_row_failure`,
    `dq_emptied_columns`). Each build reads only the files it has not ingested yet: a file is
    known by its fingerprint (path, size, modification time) and by the version of the parsing
    rules (a hash of the rendered SQL that parses it). A new file is read; a changed file is
    read again and replaces its old rows; a file that is gone takes its rows with it; new rules
    (a changed model or macro) read every file again. `dbt build --full-refresh` reads everything.

    The checks that look at other entities (unknown contact, unknown order, exchange rate) and the
    choice between duplicate rows run at read time, in the base views, so they always follow the
    latest contacts and orders.

    What a row keeps of its raw values: only those the parsed value cannot give back
    (`raw_<column>` is null when `cast(<parsed> as <raw type>)` equals the raw value); the raw row
    shown in data_quality_issues is rebuilt from the two (`ingest_raw_row`), identical to the file.

    Duplicate keys: `key_seen_before` is true on a row whose key was already ingested, or repeats
    within its batch. For every key held by two or more rows, the row ingested last carries it,
    so the rows to rank are found without aggregating the whole entity (see dq_duplicates).
-#}

{% macro ingest_config(entity) -%}
    {#- The config every ingest model shares. -#}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='_source_file',
        on_schema_change='sync_all_columns',
        pre_hook="{{ ingest_forget_stale_files('" ~ entity ~ "') }}",
    ) }}
{%- endmacro %}

{% macro ingest_format_version() -%}
    {#- Bump when the shape of the ingest tables or of ingest_model changes: every file is read again. -#}
    ingest-2026-11-23
{%- endmacro %}

{% macro raw_file_fingerprints(entity) -%}
    {#- (format, [files], {file: fingerprint}) of the entity's current raw files. -#}
    {%- if not execute or source_system() != 'raw' -%}
        {{ return((none, [], {})) }}
    {%- endif -%}
    {%- set format, files = find_entity_files(var('raw_data_path') | string | trim, entity) -%}
    {%- set fingerprints = {} -%}
    {%- if files | length > 0 -%}
        {%- set blobs = run_query(
            'select filename, size, last_modified from read_blob(' ~ sql_file_list(files) ~ ')'
        ) -%}
        {%- for row in blobs -%}
            {#- A CSV file is also read again when var csv_encoding changes. -#}
            {%- set encoding = '|csv_encoding=' ~ csv_encoding_setting() if format == 'csv' else '' -%}
            {%- do fingerprints.update({row[0]: row[0] ~ '|' ~ row[1] ~ '|' ~ row[2] ~ encoding}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return((format, files, fingerprints)) }}
{%- endmacro %}

{% macro ingest_batch(entity, rules_version) -%}
    {#-
        The files this build reads: all of them on a first build or a full refresh, else those whose
        fingerprint, under the current rules, is not in the table yet.
    -#}
    {%- set format, files, fingerprints = raw_file_fingerprints(entity) -%}
    {%- set todo = [] -%}
    {%- if files | length > 0 and is_incremental() -%}
        {%- set done_rows = run_query(
            'select distinct _source_fingerprint from ' ~ this
            ~ ' where _ingest_version = ' ~ sql_string(rules_version)
        ) -%}
        {%- set done = done_rows.columns[0].values() | list -%}
        {%- for file in files if fingerprints[file] not in done -%}
            {%- do todo.append(file) -%}
        {%- endfor -%}
        {{ log("ingest " ~ entity ~ ": " ~ todo | length ~ " of " ~ files | length ~ " files new or changed", info=true) }}
    {%- else -%}
        {%- for file in files -%}
            {%- do todo.append(file) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return({
        'files': todo,
        'fingerprints': fingerprints,
        'encodings': csv_encodings(todo) if format == 'csv' else {},
    }) }}
{%- endmacro %}

{% macro ingest_forget_stale_files(entity) -%}
    {#- pre-hook: rows of files that are gone or changed leave the table (changed files are read again). -#}
    {%- if is_incremental() -%}
        {%- set format, files, fingerprints = raw_file_fingerprints(entity) -%}
        delete from {{ this }}
        {%- if fingerprints | length > 0 %}
        where _source_fingerprint not in (
            {%- for file in files %}
            {{ sql_string(fingerprints[file]) }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        )
        {%- endif %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro ingest_rules_version(rules, keys) -%}
    {%- set key_text = [] -%}
    {%- for column, expression in keys -%}{%- do key_text.append(column ~ '=' ~ expression) -%}{%- endfor -%}
    {{ return(local_md5(ingest_format_version() ~ '\n' ~ (key_text | join('\n')) ~ '\n' ~ rules)) }}
{%- endmacro %}

{% macro ingest_model(entity, rules, keys, columns, raw_types, raw_sources={}) -%}
    {#-
        The whole query of an ingest model. rules: the model's own CTEs, `parsed` (over `source`,
        the raw reader) then `checked`, which ends with the parsed columns, raw_<column> columns,
        dq_row_failure, dq_emptied_columns, _source_file, _source_row and _source_fingerprint.
        keys: (key column, its expression over source.raw_<column>), as `parsed` computes it.
        columns: the parsed columns to keep. raw_sources: {contract column: parsed column} where
        the names differ.
    -#}
    {%- set rules_version = ingest_rules_version(rules, keys) -%}
    {%- set batch = ingest_batch(entity, rules_version) -%}
    {%- set key_columns = [] -%}
    {%- for column, expression in keys -%}{%- do key_columns.append(column) -%}{%- endfor -%}
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
                    then hash({{ key_columns | join(', ') }})
            end as key_hash
        from checked
    ),

    batch_keys as (
        -- The key hashes of this batch, from a reader of their own: a second reference to the
        -- parsed rows would make DuckDB materialise them. The expressions are the model's own.
        select hash({{ key_columns | join(', ') }}) as key_hash
        from (
            select
            {%- for column, expression in keys %}
                {{ expression }} as {{ column }}{% if not loop.last %},{% endif %}
            {%- endfor %}
            from ({{ read_raw_entity(entity, batch) }}) as source
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
        {%- for column in columns %}
            keyed.{{ column }},
        {%- endfor %}
            keyed.dq_row_failure,
            keyed.dq_emptied_columns,
            keyed.key_hash,
            repeated_keys.key_hash is not null as key_seen_before,
        {%- for column in raw_contract()[entity]['columns'] %}
            {%- set raw_type = raw_types.get(column, 'VARCHAR') %}
            -- null where the parsed value gives the raw value back
            cast(case
                when keyed.raw_{{ column }} is distinct from try_cast(keyed.{{ raw_sources.get(column, column) }} as {{ raw_type }})
                    then keyed.raw_{{ column }}
            end as {{ raw_type }}) as raw_{{ column }},
        {%- endfor %}
            keyed._source_file,
            keyed._source_row,
            keyed._source_fingerprint,
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
    {
    {%- for column in raw_contract()[entity]['columns'] -%}
        {%- set raw_type = raw_types.get(column, 'VARCHAR') -%}
        '{{ column }}': coalesce({{ prefix }}raw_{{ column }}, try_cast({{ prefix }}{{ raw_sources.get(column, column) }} as {{ raw_type }})){% if not loop.last %}, {% endif %}
    {%- endfor -%}
    }
{%- endmacro %}

{% macro ingested_raw_types(entity) -%}
    {#-
        {contract column: type of its raw_<column> in the ingest table}: the types the raw values
        were stored with, read from the table (the base views do not look at the files).
    -#}
    {%- set types = {} -%}
    {%- if execute -%}
        {%- set relation = load_relation(ref('ingest_raw__' ~ entity)) -%}
        {%- if relation is not none -%}
            {%- for column in adapter.get_columns_in_relation(relation) if column.name.startswith('raw_') -%}
                {%- do types.update({column.name[4:]: column.dtype}) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(types) }}
{%- endmacro %}
