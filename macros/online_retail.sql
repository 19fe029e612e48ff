{#-
    Reader for the UCI "Online Retail" file (SPEC section 9), in either published layout:
    "Online Retail" (InvoiceNo, UnitPrice, CustomerID) or "Online Retail II" (Invoice, Price,
    Customer ID); Parquet or CSV; ids as integers, floats or text; dates as timestamps or text.
    Returns the eight columns under fixed names, as text, plus _source_file and _source_row.
-#}

{% macro online_retail_layout() -%}
    {{ return({
        'invoice_no': ['invoiceno', 'invoice'],
        'stock_code': ['stockcode'],
        'description': ['description'],
        'quantity': ['quantity'],
        'invoice_date': ['invoicedate'],
        'unit_price': ['unitprice', 'price'],
        'customer_id': ['customerid'],
        'country': ['country'],
    }) }}
{%- endmacro %}

{% macro read_online_retail() -%}
    {%- set layout = online_retail_layout() -%}
    {%- if not execute or source_system() != 'online_retail' -%}
        {{ return(empty_relation(layout.keys() | list)) }}
    {%- endif -%}
    {%- set path = var('online_retail_path') | string | trim -%}
    {%- set found = run_query('select file from glob(' ~ sql_string(path) ~ ') order by file') -%}
    {%- if found | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "online retail: file '" ~ path ~ "' not found. Set var online_retail_path (or env"
            ~ " SEGMENT_ONLINE_RETAIL_PATH) to the .parquet or .csv file."
        ) }}
    {%- endif -%}
    {%- set files = found.columns[0].values() | list -%}
    {%- if path.lower().endswith(('.xlsx', '.xls')) -%}
        {{ exceptions.raise_compiler_error(
            "online retail: " ~ path ~ " is a spreadsheet, which DuckDB cannot read here. Save each"
            ~ " sheet as CSV (or convert it to Parquet) and point var online_retail_path at the file,"
            ~ " or at a glob of the files (e.g. 'online_retail_II_*.csv' for its two sheets)."
        ) }}
    {%- endif -%}
    {%- set format = 'parquet' if path.lower().endswith('.parquet') else 'csv' -%}
    {%- set expected = [] -%}
    {%- for candidates in layout.values() -%}{%- do expected.extend(candidates) -%}{%- endfor -%}
    {%- set described = describe_files(format, files, expected) -%}
    {%- set present = {} -%}
    {%- for name in described.columns[0].values() -%}
        {%- do present.update({column_key(name): name}) -%}
    {%- endfor -%}
    {%- set chosen = {} -%}
    {%- for column, candidates in layout.items() -%}
        {%- for candidate in candidates if candidate in present and column not in chosen -%}
            {%- do chosen.update({column: present[candidate]}) -%}
        {%- endfor -%}
        {%- if column not in chosen -%}
            {{ exceptions.raise_compiler_error(
                "online retail: " ~ path ~ " has no column for " ~ column ~ " (expected one of "
                ~ candidates | join(', ') ~ ", case and spaces ignored). Its columns are: "
                ~ described.columns[0].values() | join(', ')
                ~ ". Use the 'Online Retail' or 'Online Retail II' layout."
            ) }}
        {%- endif -%}
    {%- endfor -%}
    select
    {%- for column in layout.keys() %}
        cast("{{ chosen[column] }}" as varchar) as {{ column }},
    {%- endfor %}
        filename as _source_file,
    {%- if format == 'parquet' %}
        file_row_number + 1 as _source_row
    {%- else %}
        _file_scan_row - min(_file_scan_row) over (partition by filename) + 1 as _source_row
    {%- endif %}
    from {{ numbered_file_reader(format, files, csv_encodings(files) if format == 'csv' else {}) }}
{%- endmacro %}

{% macro online_retail_day_first(reader) -%}
    {#-
        True when a text date of the file starts with a number above 12 (day/month/year). reader:
        the model's read_online_retail(), so that the file is described and its encoding found once.
    -#}
    {%- if not execute or source_system() != 'online_retail' -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set probe = run_query(
        "select count(*) from (" ~ reader ~ ") as lines"
        ~ " where try_cast(regexp_extract(invoice_date, '^\\s*([0-9]{1,2})[/.-]', 1) as integer) > 12"
    ) -%}
    {{ return(probe.columns[0].values()[0] > 0) }}
{%- endmacro %}

{% macro parse_online_retail_date(column, reader) -%}
    {#-
        ISO text or timestamps first; else month-first (US) or day-first text, one choice for all
        the files of online_retail_path together (a glob of both sheets of Online Retail II).
    -#}
    {%- if online_retail_day_first(reader) -%}
        {%- set formats = ['%d/%m/%Y %H:%M', '%d/%m/%Y %H:%M:%S', '%d-%m-%Y %H:%M', '%d-%m-%Y %H:%M:%S', '%d.%m.%Y %H:%M'] -%}
    {%- else -%}
        {%- set formats = ['%m/%d/%Y %H:%M', '%m/%d/%Y %H:%M:%S', '%m-%d-%Y %H:%M', '%m-%d-%Y %H:%M:%S', '%m/%d/%y %H:%M'] -%}
    {%- endif -%}
    coalesce(
        {{ parse_timestamp(column) }},
        try_strptime({{ clean_text(column) }}, [{% for format in formats %}'{{ format }}'{% if not loop.last %}, {% endif %}{% endfor %}])
    )
{%- endmacro %}
