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
    totals.row_estimate,
    totals.total_bytes,
    CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key
FROM tree
JOIN pg_class AS c ON c.oid = tree.oid
JOIN pg_class AS p ON p.oid = tree.root
JOIN pg_namespace AS pn ON pn.oid = p.relnamespace
CROSS JOIN LATERAL (
    -- The relation's row estimate and sizes or, for a partitioned table, which stores
    -- nothing itself, those of its leaves added up: one walk through pg_inherits
    -- (pg_partition_tree would lock every partition until the transaction ends).
    WITH RECURSIVE members (oid) AS (
        SELECT c.oid
        UNION ALL
        SELECT i.inhrelid FROM members JOIN pg_inherits AS i ON i.inhparent = members.oid
        WHERE c.relkind = 'p'
    )
    SELECT
        CASE
            WHEN c.relkind = 'p' THEN
                CASE WHEN bool_and(m.reltuples >= 0) FILTER (WHERE m.relkind <> 'p')
                    THEN sum(m.reltuples) FILTER (WHERE m.relkind <> 'p') END
            WHEN c.reltuples >= 0 THEN c.reltuples
        END::float8 AS row_estimate,
        coalesce(sum(pg_total_relation_size(m.oid)), 0)::bigint AS total_bytes
    FROM members
    JOIN pg_class AS m ON m.oid = members.oid
) AS totals
ORDER BY 1, tree.path
