{#-
    The raw data contract, as declared in dbt source `raw` (models/staging/raw/_raw__sources.yml):
    eight entities, their columns, which are required (meta.required). segment-warehouse-land
    (segment_warehouse/landing.py) lands the files in one table per entity; the ingest models read
    those tables through source(). Nothing here reads a file.
-#}

{% macro raw_contract() -%}
    {#-
        {entity: {'required': bool, 'required_columns': [...], 'columns': [...]}}, from the source
        YAML (the loader's own columns, which start with `_`, left out). While dbt parses, the
        graph is not there yet: the contract is then empty and raw_entity() gives an empty entry.
    -#}
    {%- set contract = {} -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() if node.source_name == 'raw' -%}
            {%- set columns = [] -%}
            {%- set required_columns = [] -%}
            {%- for column in node.columns.values() if not column.name.startswith('_') -%}
                {%- do columns.append(column.name) -%}
                {%- if column.meta.get('required', false) -%}
                    {%- do required_columns.append(column.name) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- do contract.update({node.name: {
                'required': node.meta.get('required', false),
                'required_columns': required_columns,
                'columns': columns,
            }}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(contract) }}
{%- endmacro %}

{% macro raw_entity(entity) -%}
    {#- One entity of raw_contract() (an empty entry while dbt parses). -#}
    {{ return(raw_contract().get(entity, {'required': false, 'required_columns': [], 'columns': []})) }}
{%- endmacro %}

{% macro raw_landing_relation(entity) -%}
    {#-
        source('raw', entity), checked to exist when the build reads the raw contract: a plain
        `dbt build` needs `segment-warehouse-land` first (README, "Landing the raw files").
    -#}
    {%- set landing = source('raw', entity) -%}
    {%- if execute and source_system() == 'raw' and load_relation(landing) is none -%}
        {{ exceptions.raise_compiler_error(
            "raw contract: the landing table " ~ landing ~ " does not exist. Run `segment-warehouse-land`"
            ~ " (with the build's DBT_DUCKDB_PATH and SEGMENT_RAW_DATA_PATH or --vars) before dbt build;"
            ~ " `make demo` and the Dagster job do. Or point vars raw_database / raw_schema at your own tables."
        ) }}
    {%- endif -%}
    {{ return(landing) }}
{%- endmacro %}

{% macro read_raw_entity(entity, batch, columns=none) -%}
    {#-
        Every contract column of `entity` as raw_<column> (text from CSV, native types from Parquet,
        as landed), plus _source_file, _source_row (1-based data row in its file) and
        _source_fingerprint. batch: {'fingerprints': [...]} from ingest_batch: only the rows of those
        files are read. Outside source_system raw, an empty relation of the same columns.
        columns: only these contract columns (default: all of them).
    -#}
    {%- set landing = raw_landing_relation(entity) -%}
    {%- set contract = raw_entity(entity) -%}
    {%- if not execute or source_system() != 'raw' or batch['fingerprints'] | length == 0 -%}
        {%- set wanted = [] -%}
        {%- for column in contract['columns'] if columns is none or column in columns -%}
            {%- do wanted.append(column) -%}
        {%- endfor -%}
        {{ return(empty_relation(wanted, 'raw_', batch.get('types', {}))) }}
    {%- endif -%}
    select
    {%- for column in contract['columns'] if columns is none or column in columns %}
        {{ column }} as raw_{{ column }},
    {%- endfor %}
        _source_file,
        _source_row,
        _source_fingerprint
    from {{ landing }} as landing
    {%- if batch.get('all_files') %}
    {%- else %}
    where landing._source_fingerprint in (
        {%- for fingerprint in batch['fingerprints'] %}
        {{ sql_string(fingerprint) }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    )
    {%- endif %}
{%- endmacro %}

{% macro raw_column_types(entity) -%}
    {#- {contract column: DuckDB type of its landing column} (the types the files were read with). -#}
    {%- set types = {} -%}
    {%- if execute and source_system() == 'raw' -%}
        {%- set landing = load_relation(raw_landing_relation(entity)) -%}
        {%- for column in adapter.get_columns_in_relation(landing) -%}
            {%- do types.update({column.name | lower: column.dtype | upper}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(types) }}
{%- endmacro %}
