-- The partition tree of each documented partitioned table, sub-partitions under
-- their parent (depth 1 is a direct partition), the DEFAULT partition last.
WITH RECURSIVE tree AS (
    SELECT
        p.oid AS root,
        c.oid,
        1 AS depth,
        ARRAY[(pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT')::int || c.oid::regclass::text] AS path
    FROM unnest(CAST(:oids AS oid[])) AS p (oid)
    JOIN pg_inherits AS i ON i.inhparent = p.oid
    JOIN pg_class AS c ON c.oid = i.inhrelid AND c.relispartition
    UNION ALL
    SELECT
        tree.root,
        c.oid,
        tree.depth + 1,
        tree.path || ((pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT')::int || c.oid::regclass::text)
    FROM tree
    JOIN pg_inherits AS i ON i.inhparent = tree.oid
    JOIN pg_class AS c ON c.oid = i.inhrelid AND c.relispartition
)
SELECT
    format('%I.%I', pn.nspname, p.relname) AS key,
    c.oid::regclass::text AS name,
    pg_get_expr(c.relpartbound, c.oid) AS bound,
    c.relkind,
    tree.depth,
    CASE
        WHEN c.relkind = 'p' THEN (
            WITH RECURSIVE t (relid) AS (
                SELECT c.oid
                UNION ALL
                SELECT i.inhrelid FROM t JOIN pg_inherits AS i ON i.inhparent = t.relid
            )
            SELECT CASE WHEN bool_and(l.reltuples >= 0) THEN sum(l.reltuples) END
            FROM t
            JOIN pg_class AS l ON l.oid = t.relid
            WHERE l.relkind <> 'p'
        )
        WHEN c.reltuples >= 0 THEN c.reltuples
    END::float8 AS row_estimate,
    CASE
        WHEN c.relkind = 'p' THEN (
            WITH RECURSIVE t (relid) AS (
                SELECT c.oid
                UNION ALL
                SELECT i.inhrelid FROM t JOIN pg_inherits AS i ON i.inhparent = t.relid
            )
            SELECT coalesce(sum(pg_total_relation_size(t.relid)), 0)
            FROM t
        )
        ELSE pg_total_relation_size(c.oid)
    END::bigint AS total_bytes,
    CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key
FROM tree
JOIN pg_class AS c ON c.oid = tree.oid
JOIN pg_class AS p ON p.oid = tree.root
JOIN pg_namespace AS pn ON pn.oid = p.relnamespace
ORDER BY 1, tree.path
