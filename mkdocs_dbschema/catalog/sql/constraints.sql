-- Keys, checks and exclusions of the documented tables, and every foreign key
-- from or to them. NOT NULL constraints (contype 'n', PostgreSQL 18) are not checks.
SELECT
    con.contype,
    con.conname AS name,
    format('%I.%I', rn.nspname, r.relname) AS table_key,
    con.conrelid::regclass::text AS table_display,
    CASE WHEN f.oid IS NOT NULL THEN format('%I.%I', fn.nspname, f.relname) END AS ref_key,
    CASE WHEN f.oid IS NOT NULL THEN con.confrelid::regclass::text END AS ref_display,
    pg_get_constraintdef(con.oid, true) AS definition,
    array(
        SELECT a.attname
        FROM unnest(con.conkey) WITH ORDINALITY AS k (attnum, ord)
        JOIN pg_attribute AS a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
        ORDER BY k.ord
    ) AS columns,
    array(
        SELECT a.attname
        FROM unnest(con.confkey) WITH ORDINALITY AS k (attnum, ord)
        JOIN pg_attribute AS a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
        ORDER BY k.ord
    ) AS ref_columns,
    con.confdeltype AS on_delete,
    con.confupdtype AS on_update,
    con.confmatchtype AS match,
    con.condeferrable AS deferrable,
    con.condeferred AS deferred,
    con.convalidated AS validated,
    con.conparentid <> 0 AS inherited,
    obj_description(con.oid, 'pg_constraint') AS comment
FROM pg_constraint AS con
JOIN pg_class AS r ON r.oid = con.conrelid
JOIN pg_namespace AS rn ON rn.oid = r.relnamespace
LEFT JOIN pg_class AS f ON f.oid = con.confrelid
LEFT JOIN pg_namespace AS fn ON fn.oid = f.relnamespace
WHERE con.contype IN ('p', 'u', 'c', 'x', 'f')
  AND (
    con.conrelid = ANY(CAST(:oids AS oid[]))
    OR (con.contype = 'f' AND con.confrelid = ANY(CAST(:oids AS oid[])))
  )
ORDER BY 3, CASE con.contype WHEN 'p' THEN 0 ELSE 1 END, 2
