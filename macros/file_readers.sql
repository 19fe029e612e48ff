{#-
    Readers of data files at compile time, for the Online Retail file (macros/online_retail.sql):
    describing files, finding each CSV file's encoding, numbering rows per file. The raw contract
    no longer reads files from Jinja: segment-warehouse-land (segment_warehouse/landing.py) lands
    them, with the same encoding rules (csv_encodings there and here must agree).
-#}

{% macro sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
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
