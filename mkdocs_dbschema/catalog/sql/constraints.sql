-- Keys, checks and exclusions of the documented tables, and every foreign key
-- from or to them. NOT NULL constraints (contype 'n', PostgreSQL 18) are not checks.
-- A documented partitioned table also gets the keys declared on its partitions
-- (pagila's payment), so that its card can list them under the table.
WITH RECURSIVE tree (oid) AS (
    SELECT oid FROM unnest(CAST(:oids AS oid[])) AS o (oid)
    UNION
    SELECT i.inhrelid
    FROM tree
    JOIN pg_class AS c ON c.oid = tree.oid AND c.relkind = 'p'
    JOIN pg_inherits AS i ON i.inhparent = tree.oid
)
SELECT
    con.contype,
    con.conname AS name,
    format('%I.%I', rn.nspname, r.relname) AS table_key,
    con.conrelid::regclass::text AS table_display,
    format('%I.%I', rrn.nspname, rr.relname) AS table_root_key,
    rr.oid::regclass::text AS table_root_display,
    con.conrelid = ANY(CAST(:oids AS oid[])) AS documented,
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
    -- PostgreSQL's own copy of a key for each partition of the table it references:
    -- the same key as its parent constraint, which sits on the same table.
    EXISTS (
        SELECT FROM pg_constraint AS pc
        WHERE pc.oid = con.conparentid AND pc.conrelid = con.conrelid
    ) AS partition_copy,
    -- The name of the key as declared (a copy's own name is made up by PostgreSQL).
    coalesce(origin.name, con.conname) AS origin_name,
    obj_description(con.oid, 'pg_constraint') AS comment
FROM pg_constraint AS con
JOIN pg_class AS r ON r.oid = con.conrelid
JOIN pg_namespace AS rn ON rn.oid = r.relnamespace
JOIN pg_class AS rr ON rr.oid = coalesce(pg_partition_root(con.conrelid), con.conrelid)
JOIN pg_namespace AS rrn ON rrn.oid = rr.relnamespace
LEFT JOIN pg_class AS f ON f.oid = con.confrelid
LEFT JOIN pg_namespace AS fn ON fn.oid = f.relnamespace
LEFT JOIN LATERAL (
    WITH RECURSIVE up AS (
        SELECT p.oid, p.conparentid, p.conname FROM pg_constraint AS p WHERE p.oid = con.conparentid
        UNION ALL
        SELECT p.oid, p.conparentid, p.conname FROM pg_constraint AS p JOIN up ON p.oid = up.conparentid
    )
    SELECT up.conname AS name FROM up WHERE up.conparentid = 0
) AS origin ON con.conparentid <> 0
WHERE con.contype IN ('p', 'u', 'c', 'x', 'f')
  AND (
    con.conrelid = ANY(CAST(:oids AS oid[]))
    OR (con.contype = 'f' AND con.confrelid = ANY(CAST(:oids AS oid[])))
    OR (con.contype = 'f' AND con.conparentid = 0 AND con.conrelid IN (SELECT oid FROM tree))
  )
ORDER BY 3, CASE con.contype WHEN 'p' THEN 0 ELSE 1 END, 2
