-- Enums and domains used by the documented columns (directly or as array elements).
WITH used AS (
    SELECT DISTINCT CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END AS oid
    FROM pg_attribute AS a
    JOIN pg_class AS c ON c.oid = a.attrelid
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    JOIN pg_type AS t ON t.oid = a.atttypid
    WHERE c.oid = ANY(CAST(:oids AS oid[]))
      AND a.attnum > 0
      AND NOT a.attisdropped
)
SELECT
    format_type(t.oid, NULL) AS name,
    CASE t.typtype WHEN 'e' THEN 'enum' ELSE 'domain' END AS kind,
    array(
        SELECT enumlabel FROM pg_enum WHERE enumtypid = t.oid ORDER BY enumsortorder
    ) AS labels,
    CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
    t.typnotnull AS not_null,
    t.typdefault AS "default",
    array(
        SELECT pg_get_constraintdef(con.oid, true)
        FROM pg_constraint AS con
        WHERE con.contypid = t.oid AND con.contype = 'c'
        ORDER BY con.conname
    ) AS checks,
    obj_description(t.oid, 'pg_type') AS comment
FROM pg_type AS t
WHERE t.oid IN (SELECT oid FROM used)
  AND t.typtype IN ('e', 'd')
ORDER BY 1
