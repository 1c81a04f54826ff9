-- The foreign-key graph of every table in the schemas of the documented tables
-- (with none, the schemas on the search_path) and of every table they reference,
-- directly or not, in any schema: one row per table and referenced table (NULL:
-- references nothing). A partition is folded into its root; a documented partition
-- also stands on its own, one level above its parent, which must exist first.
WITH RECURSIVE documented AS (
    SELECT DISTINCT relnamespace
    FROM pg_class
    WHERE oid = ANY(CAST(:oids AS oid[]))
    UNION
    SELECT oid
    FROM pg_namespace
    WHERE nspname = ANY(current_schemas(false)) AND cardinality(CAST(:oids AS oid[])) = 0
),
edges AS (
    SELECT
        coalesce(pg_partition_root(conrelid), conrelid) AS root,
        coalesce(pg_partition_root(confrelid), confrelid) AS ref
    FROM pg_constraint
    WHERE contype = 'f'
),
nodes (root) AS (
    SELECT coalesce(pg_partition_root(c.oid), c.oid)
    FROM pg_class AS c
    WHERE c.relnamespace IN (SELECT relnamespace FROM documented)
      AND c.relkind IN ('r', 'p', 'f')
    UNION
    SELECT edges.ref
    FROM nodes
    JOIN edges ON edges.root = nodes.root
)
SELECT DISTINCT
    format('%I.%I', n.nspname, r.relname) AS key,
    r.oid::regclass::text AS display,
    CASE WHEN f.oid IS NOT NULL THEN format('%I.%I', fn.nspname, f.relname) END AS ref
FROM nodes
JOIN pg_class AS r ON r.oid = nodes.root
JOIN pg_namespace AS n ON n.oid = r.relnamespace
LEFT JOIN edges ON edges.root = nodes.root
LEFT JOIN pg_class AS f ON f.oid = edges.ref
LEFT JOIN pg_namespace AS fn ON fn.oid = f.relnamespace
UNION
SELECT
    format('%I.%I', n.nspname, c.relname),
    c.oid::regclass::text,
    format('%I.%I', pn.nspname, p.relname)
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_inherits AS i ON i.inhrelid = c.oid
JOIN pg_class AS p ON p.oid = i.inhparent
JOIN pg_namespace AS pn ON pn.oid = p.relnamespace
WHERE c.oid = ANY(CAST(:oids AS oid[])) AND c.relispartition
ORDER BY 1, 2
