SELECT
    format('%I.%I', n.nspname, c.relname) AS key,
    a.attname AS name,
    format_type(a.atttypid, a.atttypmod) AS type,
    NOT a.attnotnull AS nullable,
    CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS "default",
    col_description(a.attrelid, a.attnum) AS comment,
    CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END AS identity,
    CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END AS generated,
    CASE a.attgenerated WHEN 's' THEN 'STORED' WHEN 'v' THEN 'VIRTUAL' END AS generated_kind,
    has_column_privilege(a.attrelid, a.attnum, 'SELECT') AS readable,
    -- The enum or domain behind the column (through an array type too).
    CASE
        WHEN t.typtype IN ('e', 'd') THEN format_type(t.oid, NULL)
        WHEN e.typtype IN ('e', 'd') THEN format_type(e.oid, NULL)
    END AS user_type
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_type AS t ON t.oid = a.atttypid
LEFT JOIN pg_type AS e ON e.oid = t.typelem AND t.typcategory = 'A'
LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.oid = ANY(CAST(:oids AS oid[]))
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY 1, a.attnum
