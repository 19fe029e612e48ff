{#-
    The raw data contract: one entity per `<entity>.parquet`, `<entity>.csv` or folder `<entity>/`
    of parts, in the folder named by var raw_data_path. Column names are fixed; only `contacts`
    and `orders` are required, and within them only the columns listed as required.
-#}

{% macro raw_contract() -%}
    {{ return({
        'contacts': {
            'required': true,
            'required_columns': ['contact_id'],
            'columns': [
                'contact_id', 'email', 'first_name', 'last_name', 'created_at', 'subscribed_at',
                'email_consent', 'sms_consent', 'unsubscribed_at', 'birth_date', 'gender', 'city',
                'region', 'country_code', 'postal_code', 'latitude', 'longitude', 'acquisition_source',
            ],
        },
        'orders': {
            'required': true,
            'required_columns': ['order_id', 'contact_id', 'ordered_at', 'status', 'amount_net'],
            'columns': [
                'order_id', 'contact_id', 'ordered_at', 'status', 'currency', 'amount_net',
                'amount_gross', 'discount_code',
            ],
        },
        'refunds': {
            'required': false,
            'required_columns': ['refund_id', 'refunded_at', 'amount_net'],
            'columns': ['refund_id', 'order_id', 'contact_id', 'refunded_at', 'amount_net'],
        },
        'order_items': {
            'required': false,
            'required_columns': ['order_id', 'line_number'],
            'columns': ['order_id', 'line_number', 'product_id', 'quantity', 'unit_price_net'],
        },
        'products': {
            'required': false,
            'required_columns': ['product_id'],
            'columns': ['product_id', 'product_name', 'category', 'price_net'],
        },
        'carts': {
            'required': false,
            'required_columns': ['cart_id'],
            'columns': ['cart_id', 'contact_id', 'created_at', 'updated_at', 'value_net', 'order_id'],
        },
        'web_events': {
            'required': false,
            'required_columns': ['event_id', 'event_type', 'occurred_at'],
            'columns': [
                'event_id', 'contact_id', 'anonymous_id', 'session_id', 'event_type', 'occurred_at',
                'product_id', 'page_url', 'duration_seconds', 'channel',
            ],
        },
        'email_events': {
            'required': false,
            'required_columns': ['event_id', 'contact_id', 'event_type', 'occurred_at'],
            'columns': ['event_id', 'contact_id', 'campaign_id', 'event_type', 'occurred_at'],
        },
    }) }}
{%- endmacro %}

{% macro sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{% macro find_entity_files(base_path, entity) -%}
    {#- The files of one entity, as (format, [paths]); the first layout that matches wins. -#}
    {%- set patterns = [
        ('parquet', base_path ~ '/' ~ entity ~ '.parquet'),
        ('csv', base_path ~ '/' ~ entity ~ '.csv'),
        ('csv', base_path ~ '/' ~ entity ~ '.csv.gz'),
        ('parquet', base_path ~ '/' ~ entity ~ '/*.parquet'),
        ('csv', base_path ~ '/' ~ entity ~ '/*.csv'),
        ('csv', base_path ~ '/' ~ entity ~ '/*.csv.gz'),
    ] -%}
    {%- for format, pattern in patterns -%}
        {%- set found = run_query('select file from glob(' ~ sql_string(pattern) ~ ') order by file') -%}
        {%- if found | length > 0 -%}
            {{ return((format, found.columns[0].values() | list)) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return((none, [])) }}
{%- endmacro %}

{% macro sql_file_list(files) -%}
    [{% for file in files %}{{ sql_string(file) }}{% if not loop.last %}, {% endif %}{% endfor %}]
{%- endmacro %}

{% macro csv_encoding_setting() -%}
    {#- var csv_encoding: `auto` (default), or the encoding of every CSV file. -#}
    {%- set value = var('csv_encoding', 'auto') | string | trim | lower | replace('_', '-') -%}
    {%- set value = {'utf8': 'utf-8', 'latin1': 'latin-1', 'iso-8859-1': 'latin-1', 'utf16': 'utf-16'}.get(value, value) -%}
    {%- if value not in ('auto', 'utf-8', 'latin-1', 'utf-16') -%}
        {{ exceptions.raise_compiler_error(
            "var csv_encoding: '" ~ value ~ "' is unknown; use auto (UTF-8, else Latin-1, per file), utf-8,"
            ~ " latin-1 (ISO-8859-1) or utf-16. Other encodings: convert the file to UTF-8 first."
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro csv_encodings(files, announce=true) -%}
    {#-
        {file: encoding} of CSV files that are about to be read. With csv_encoding `auto`, a file is
        UTF-8 (with or without a byte-order mark) when every line of it is valid UTF-8, else Latin-1
        (ISO-8859-1): exports from spreadsheets on Windows, such as the most common copy of the
        Online Retail file, are often Latin-1. The lines that are not UTF-8 are found by one scan of
        the files as lines of text that keeps its rejects (DuckDB's store_rejects, in two temporary
        tables of this connection). Each file read as Latin-1 gets a log line (unless announce is
        false). Otherwise every file has the var's encoding.
    -#}
    {%- set setting = csv_encoding_setting() -%}
    {%- set encodings = {} -%}
    {%- for file in files -%}
        {%- do encodings.update({file: 'utf-8' if setting == 'auto' else setting}) -%}
    {%- endfor -%}
    {%- if setting != 'auto' or files | length == 0 -%}
        {{ return(encodings) }}
    {%- endif -%}
    {%- do run_query('drop table if exists temp.main.segment_csv_encoding_errors') -%}
    {%- do run_query('drop table if exists temp.main.segment_csv_encoding_scans') -%}
    {%- do run_query(
        'select count(*) from read_csv(' ~ sql_file_list(files) ~ ", encoding = 'utf-8',"
        ~ " columns = {'line': 'VARCHAR'}, delim = E'\\x1f', quote = '', escape = '', header = false,"
        ~ " auto_detect = false, strict_mode = false, ignore_errors = true, store_rejects = true,"
        ~ " rejects_scan = 'segment_csv_encoding_scans', rejects_table = 'segment_csv_encoding_errors')"
    ) -%}
    {%- set not_utf8 = run_query(
        'select distinct scans.file_path from temp.main.segment_csv_encoding_errors as errors'
        ~ ' inner join temp.main.segment_csv_encoding_scans as scans'
        ~ ' on errors.scan_id = scans.scan_id and errors.file_id = scans.file_id'
        ~ " where errors.error_type = 'INVALID ENCODING'"
    ) -%}
    {%- for file in not_utf8.columns[0].values() -%}
        {%- do encodings.update({file: 'latin-1'}) -%}
        {%- if announce -%}
            {{ log(
                "csv: " ~ file ~ " is not UTF-8; read as Latin-1 (ISO-8859-1). Set var csv_encoding to"
                ~ " choose. A Windows-1252 file (with the euro sign or curly quotes) is not Latin-1:"
                ~ " convert it to UTF-8 first (iconv -f WINDOWS-1252 -t UTF-8).",
                info=true,
            ) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(encodings) }}
{%- endmacro %}

{% macro csv_reader(files, encoding, options='') -%}
    read_csv({{ sql_file_list(files) }}, encoding = '{{ encoding }}', all_varchar = true, header = true, union_by_name = true, filename = true{{ options }})
{%- endmacro %}

{% macro csv_groups(files, encodings) -%}
    {#- [(encoding, [files])], in file order, one per encoding. -#}
    {%- set groups = [] -%}
    {%- set by_encoding = {} -%}
    {%- for file in files -%}
        {%- set encoding = encodings[file] -%}
        {%- if encoding not in by_encoding -%}
            {%- do by_encoding.update({encoding: []}) -%}
            {%- do groups.append((encoding, by_encoding[encoding])) -%}
        {%- endif -%}
        {%- do by_encoding[encoding].append(file) -%}
    {%- endfor -%}
    {{ return(groups) }}
{%- endmacro %}

{% macro csv_readers_by_encoding(files, encodings, columns='*') -%}
    {#- `select <columns>` from each group of files of one encoding, put together by name. -#}
    {%- for encoding, group in csv_groups(files, encodings) %}
    select {{ columns }} from {{ csv_reader(group, encoding) }}
    {%- if not loop.last %}
    union all by name
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{% macro file_reader(format, files) -%}
    {#-
        A reader of the files that serves to describe their columns. A CSV header is read as UTF-8
        (or the var's encoding), skipping the lines of the sample that are not (Latin-1 letters in
        a data line). The rows are read by numbered_file_reader, in each file's own encoding.
    -#}
    {%- if format == 'parquet' -%}
        read_parquet({{ sql_file_list(files) }}, union_by_name = true, filename = true, file_row_number = true)
    {%- else -%}
        {%- set setting = csv_encoding_setting() -%}
        {{ csv_reader(files, 'utf-8' if setting == 'auto' else setting, ', ignore_errors = true') }}
    {%- endif -%}
{%- endmacro %}

{% macro column_key(name) -%}
    {#- A column name as headers are matched: case, spaces and underscores ignored. -#}
    {{ return(name | lower | replace(' ', '') | replace('_', '')) }}
{%- endmacro %}

{% macro describe_files(format, files, expected) -%}
    {#-
        The columns of the files, as rows of (name, type, ...). A CSV header that is not UTF-8
        (a Latin-1 name such as `Prénom`) is skipped like any line that is not, and the first data
        row taken for the header; so when none of the `expected` names is among the columns (as
        column_key matches them) and the encoding is `auto`, the files are described again
        in the encodings csv_encodings finds (which reads them; the usual case, an ASCII or UTF-8
        header, costs nothing more).
    -#}
    {%- set described = run_query('describe select * from ' ~ file_reader(format, files)) -%}
    {%- if format == 'csv' and csv_encoding_setting() == 'auto' -%}
        {%- set names = [] -%}
        {%- for row in described -%}
            {%- do names.append(column_key(row[0])) -%}
        {%- endfor -%}
        {%- set found = [] -%}
        {%- for name in expected if column_key(name) in names -%}
            {%- do found.append(name) -%}
        {%- endfor -%}
        {%- if found | length == 0 -%}
            {%- set described = run_query(
                'describe ' ~ csv_readers_by_encoding(files, csv_encodings(files, false))
            ) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(described) }}
{%- endmacro %}

{% macro numbered_file_reader(format, files, encodings) -%}
    {#-
        The reader of the rows (encodings: {file: encoding} of CSV files, from csv_encodings), plus
        for CSV a scan-order row number: DuckDB has no file_row_number for CSV, and a partitioned
        window loses file order, so rows are numbered by a streaming row_number() over () (which
        keeps insertion order) and offset per file by the caller. Files of different encodings are
        read (and numbered) apart, then put together.
    -#}
    {%- if format == 'parquet' -%}
        {{ file_reader(format, files) }}
    {%- else -%}
        ({{ csv_readers_by_encoding(files, encodings, '*, row_number() over () as _file_scan_row') }}) as numbered_file
    {%- endif -%}
{%- endmacro %}

{% macro empty_relation(columns, prefix='', types={}) -%}
    select
    {%- for column in columns %}
        cast(null as {{ types.get(column, 'varchar') }}) as {{ prefix }}{{ column }},
    {%- endfor %}
        cast(null as varchar) as _source_file,
        cast(null as bigint) as _source_row,
        cast(null as varchar) as _source_fingerprint
    where false
{%- endmacro %}

{% macro read_raw_entity(entity, batch) -%}
    {#-
        Every contract column of `entity` as raw_<column> (text from CSV, native types from Parquet),
        plus _source_file, _source_row (1-based data row in its file) and _source_fingerprint
        (path|size|modified, see macros/ingest.sql). batch: {'files': [...], 'fingerprints': {...}}
        from ingest_batch: only those files are read (the columns are checked over all files, so the
        types do not depend on the batch). A missing optional file or column reads as empty, with
        one log line; a missing required file or column stops the build with a message naming it.
    -#}
    {%- set contract = raw_contract()[entity] -%}
    {%- if not execute or source_system() != 'raw' -%}
        {{ return(empty_relation(contract['columns'], 'raw_')) }}
    {%- endif -%}
    {%- set base_path = var('raw_data_path') | string | trim -%}
    {%- set format, files = find_entity_files(base_path, entity) -%}
    {%- if files | length == 0 -%}
        {%- if contract['required'] -%}
            {{ exceptions.raise_compiler_error(
                "raw contract: required file '" ~ entity ~ "' not found in raw_data_path '" ~ base_path
                ~ "' (looked for " ~ entity ~ ".parquet, " ~ entity ~ ".csv[.gz] and " ~ entity
                ~ "/*.parquet|csv). Point var raw_data_path (or env SEGMENT_RAW_DATA_PATH) at the export"
                ~ " folder, or run `make demo-data` to generate the demo store."
            ) }}
        {%- endif -%}
        {{ log("raw contract: no " ~ entity ~ " file in " ~ base_path ~ "; " ~ entity ~ " is empty", info=true) }}
        {{ return(empty_relation(contract['columns'], 'raw_')) }}
    {%- endif -%}
    {%- set described = describe_files(format, files, contract['columns']) -%}
    {%- set present = {} -%}
    {%- set types = {} -%}
    {%- for row in described -%}
        {%- do present.update({row[0] | lower | trim: row[0]}) -%}
        {%- do types.update({row[0] | lower | trim: row[1]}) -%}
    {%- endfor -%}
    {%- set shown = files[0] if files | length == 1 else base_path ~ '/' ~ entity ~ '/ (' ~ files | length ~ ' files)' -%}
    {%- set missing = [] -%}
    {%- for column in contract['columns'] if column not in present -%}
        {%- do missing.append(column) -%}
    {%- endfor -%}
    {%- for column in contract['required_columns'] if column in missing -%}
        {{ exceptions.raise_compiler_error(
            "raw contract: required column '" ~ column ~ "' is missing in " ~ shown
            ~ ". Its columns are: " ~ (described.columns[0].values() | join(', '))
            ~ ". Rename the column in the export (names are fixed, see docs/analytics-engineer.md, 'Raw data contract')."
            ~ (" If the names look garbled, the file is in another encoding: set var csv_encoding"
               ~ " (utf-8, latin-1 or utf-16)." if format == 'csv' else '')
        ) }}
    {%- endfor -%}
    {%- if missing | length > 0 -%}
        {{ log("raw contract: " ~ shown ~ " has no column " ~ missing | join(', ') ~ "; read as empty", info=true) }}
    {%- endif -%}
    {%- set files = batch['files'] -%}
    {%- if files | length == 0 -%}
        {{ return(empty_relation(contract['columns'], 'raw_', types)) }}
    {%- endif -%}
    {#- CSV columns are text; Parquet columns keep their own types (the parsing macros accept both). -#}
    select
    {%- for column in contract['columns'] %}
        {%- if column in present %}
        "{{ present[column] }}" as raw_{{ column }},
        {%- else %}
        cast(null as varchar) as raw_{{ column }},
        {%- endif %}
    {%- endfor %}
        filename as _source_file,
    {%- if format == 'parquet' %}
        file_row_number + 1 as _source_row,
    {%- else %}
        _file_scan_row - min(_file_scan_row) over (partition by filename) + 1 as _source_row,
    {%- endif %}
        case filename
        {%- for file in files %}
            when {{ sql_string(file) }} then {{ sql_string(batch['fingerprints'][file]) }}
        {%- endfor %}
        end as _source_fingerprint
    from {{ numbered_file_reader(format, files, batch.get('encodings', {})) }}
{%- endmacro %}

{% macro raw_columns(entity, relation) -%}
    {#- The raw_<column> columns of `entity`, carried along so the raw row can be rebuilt late. -#}
    {%- for column in raw_contract()[entity]['columns'] -%}
        {{ relation }}.raw_{{ column }}{% if not loop.last %},
        {% endif %}
    {%- endfor -%}
{%- endmacro %}

{% macro raw_column_types(entity) -%}
    {#- {contract column: DuckDB type of the raw column} for the present columns of `entity`. -#}
    {%- set types = {} -%}
    {%- if execute and source_system() == 'raw' -%}
        {%- set format, files = find_entity_files(var('raw_data_path') | string | trim, entity) -%}
        {%- if files | length > 0 -%}
            {%- set described = run_query('describe select * from ' ~ file_reader(format, files)) -%}
            {%- for row in described -%}
                {%- do types.update({row[0] | lower | trim: row[1] | upper}) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(types) }}
{%- endmacro %}
