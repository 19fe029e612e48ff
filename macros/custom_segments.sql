{#-
    Custom segments (SPEC section 11): a name and a SQL condition over the columns of
    customer_segments, kept as code in var `custom_segments` (dbt_project.yml), a list of
    {name, description, condition}. segment_membership gives each contact one row of family `custom`
    per custom segment whose condition is true for it (null counts as false); the data test
    assert_segment_membership_matches_customer_segments evaluates each condition again on its own.
    docs/analytics-engineer.md, "Custom and static segments", shows how to add one.
-#}

{% macro custom_segment_slug(name) -%}
    {#- The key part of a segment name, as segment_membership computes segment_key: lower case,
        apostrophes dropped, every run of other characters one underscore, none at either end. -#}
    {{- return(modules.re.sub('[^a-z0-9]+', '_', (name | lower).replace("'", '')).strip('_')) -}}
{%- endmacro %}

{% macro custom_segments() -%}
    {#- The custom segments of var custom_segments, checked: a list of mappings with a `name` (letters,
        digits, spaces, _ or -, starting with a letter or digit, at most 63 characters; no two with the
        same key custom:<slug>), a `condition` (a SQL condition, no `;`) and an optional
        `description`. Returns a list of {name, key, description, condition}; a mistake stops the
        build with the segment and what to do. The columns a condition names are checked by
        check_custom_segment_columns when the SQL runs. -#}
    {%- set where = "var custom_segments (dbt_project.yml)" -%}
    {%- set raw = var('custom_segments', none) -%}
    {%- if raw is none or raw == '' -%}
        {{- return([]) -}}
    {%- endif -%}
    {%- if raw is string or raw is mapping or raw is not iterable -%}
        {{ exceptions.raise_compiler_error(
            where ~ " must be a list of {name, description, condition}, not " ~ (raw | string)
        ) }}
    {%- endif -%}
    {%- set segments = [] -%}
    {%- set keys = {} -%}
    {%- for entry in raw -%}
        {%- set position = "entry " ~ loop.index -%}
        {%- if entry is not mapping -%}
            {{ exceptions.raise_compiler_error(
                where ~ ", " ~ position ~ ": each custom segment is a mapping with name, description and"
                ~ " condition, not " ~ (entry | string)
            ) }}
        {%- endif -%}
        {%- set unknown = entry.keys() | reject('in', ['name', 'description', 'condition']) | list -%}
        {%- set name = entry.get('name') -%}
        {%- set label = "custom segment " ~ ("'" ~ name ~ "'" if name is string else position) -%}
        {%- if unknown -%}
            {{ exceptions.raise_compiler_error(
                where ~ ", " ~ label ~ ": unknown key(s) " ~ (unknown | join(', '))
                ~ "; a custom segment has name, description and condition"
            ) }}
        {%- endif -%}
        {%- if name is not string
            or not modules.re.match('^[A-Za-z0-9][A-Za-z0-9 _-]{0,62}$', name)
            or custom_segment_slug(name) == '' -%}
            {{ exceptions.raise_compiler_error(
                where ~ ", " ~ position ~ ": name " ~ (name | string) ~ " is not a valid segment name;"
                ~ " use letters, digits, spaces, _ or -, starting with a letter or digit, at most 63"
                ~ " characters (e.g. champions_hot)"
            ) }}
        {%- endif -%}
        {%- set key = 'custom:' ~ custom_segment_slug(name) -%}
        {%- if key in keys -%}
            {{ exceptions.raise_compiler_error(
                where ~ ": custom segments '" ~ keys[key] ~ "' and '" ~ name ~ "' have the same key "
                ~ key ~ "; rename one of them"
            ) }}
        {%- endif -%}
        {%- do keys.update({key: name}) -%}
        {%- set condition = entry.get('condition') -%}
        {%- if condition is not string or (condition | trim) == '' or ';' in condition -%}
            {{ exceptions.raise_compiler_error(
                where ~ ", " ~ label ~ ": condition must be one SQL condition over the columns of"
                ~ " customer_segments (no ';'), e.g. rfm_segment = 'Champions' and nurturing_score >= 40"
            ) }}
        {%- endif -%}
        {%- set description = entry.get('description') -%}
        {%- if description is not none and description is not string -%}
            {{ exceptions.raise_compiler_error(where ~ ", " ~ label ~ ": description must be text") }}
        {%- endif -%}
        {%- do segments.append({
            'name': name,
            'key': key,
            'description': description or '',
            'condition': condition | trim,
        }) -%}
    {%- endfor -%}
    {{- return(segments) -}}
{%- endmacro %}

{% macro check_custom_segment_columns(segments) -%}
    {{ return(adapter.dispatch('check_custom_segment_columns', 'segment_warehouse')(segments)) }}
{%- endmacro %}

{% macro default__check_custom_segment_columns(segments) -%}
    {#- Spark: no check before the SQL runs (DuckDB's parser is not there to read the conditions);
        a condition naming a column customer_segments lacks fails the model's own SQL (Spark's
        UNRESOLVED_COLUMN error names the column). -#}
{%- endmacro %}

{% macro duckdb__check_custom_segment_columns(segments) -%}
    {#- Stops the build when a custom segment's condition does not parse, or names a column that
        customer_segments does not have (its enforced contract: the columns declared in
        models/marts/segments/_segments__models.yml). DuckDB's own parser reads each condition
        (json_serialize_sql) and lists its column references; nothing is bound or run. Only when
        the SQL runs (`execute`), and only with custom segments. A dbt unit test sees no graph of
        nodes: there the check is left out (the unit test names the columns it gives). -#}
    {%- set model = (graph.get('nodes') or {}).get('model.' ~ project_name ~ '.customer_segments') -%}
    {%- if execute and segments and model -%}
        {%- set columns = model.columns.keys() | map('lower') | list -%}
        {%- set parse_sql -%}
            with parsed as (
                select * from (
                    values
                    {%- for segment in segments %}
                    (
                        '{{ segment.name }}',
                        json_serialize_sql(
                            'select 1 from customer_segments where ('
                            || '{{ segment.condition | replace("'", "''") }}'
                            || ')'
                        )
                    ){{ ',' if not loop.last }}
                    {%- endfor %}
                ) as parsed (segment_name, tree)
            )

            select
                parsed.segment_name,
                json_extract_string(parsed.tree, '$.error_message') as parse_error,
                to_json(list(distinct json_extract(node.value, '$.column_names'))
                    filter (where node.is_column_ref and not node.is_lambda_parameter)) as column_names,
                to_json(list(distinct json_extract_string(node.value, '$.column_names[0]'))
                    filter (where node.is_column_ref and node.is_lambda_parameter)) as lambda_parameters
            from parsed
            left join (
                select
                    *,
                    json_extract_string(value, '$.class') = 'COLUMN_REF' as is_column_ref,
                    -- the parameters of a lambda (x -> ..., lambda x: ...) are its left-hand side
                    regexp_matches(fullkey, '\.lhs($|[.\[])') as is_lambda_parameter
                from json_tree(parsed.tree)
            ) as node
                on node.type = 'OBJECT'
            group by parsed.segment_name, parsed.tree
        {%- endset -%}
        {%- set problems = [] -%}
        {%- for row in run_query(parse_sql).rows -%}
            {%- if row['parse_error'] -%}
                {%- do problems.append(
                    "custom segment '" ~ row['segment_name'] ~ "': its condition is not valid SQL ("
                    ~ row['parse_error'] ~ "); fix it in var custom_segments (dbt_project.yml)"
                ) -%}
            {%- else -%}
                {%- set lambda_parameters = fromjson(row['lambda_parameters'] or '[]') | map('lower') | list -%}
                {%- for names in fromjson(row['column_names'] or '[]') -%}
                    {%- set column = names[-1] if names | length > 1
                        and names[0] | lower in ('customer_segments', 'segments') else names[0] -%}
                    {%- if column | lower not in columns and column | lower not in lambda_parameters -%}
                        {%- do problems.append(
                            "custom segment '" ~ row['segment_name'] ~ "': column '" ~ (names | join('.'))
                            ~ "' is not a column of customer_segments; use one of its columns (listed in"
                            ~ " models/marts/segments/_segments__models.yml), or add the column to"
                            ~ " customer_segments first, then fix the condition in var custom_segments"
                            ~ " (dbt_project.yml)"
                        ) -%}
                    {%- endif -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if problems -%}
            {{ exceptions.raise_compiler_error(problems | sort | join('\n')) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro custom_segment_label(segment) -%}
    {#- SQL: the segment's name when its condition is true for the row of customer_segments, else null. -#}
    case when ({{ segment.condition }}) then '{{ segment.name }}' end
{%- endmacro %}
