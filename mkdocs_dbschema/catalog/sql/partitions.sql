SELECT
    format('%I.%I', pn.nspname, p.relname) AS key,
    c.oid::regclass::text AS name,
    pg_get_expr(c.relpartbound, c.oid) AS bound,
    c.relkind,
    CASE WHEN c.reltuples >= 0 THEN c.reltuples END::float8 AS row_estimate,
    CASE
        WHEN c.relkind = 'p' THEN (
            SELECT coalesce(sum(pg_total_relation_size(t.relid)), 0)
            FROM pg_partition_tree(c.oid) AS t
        )
        ELSE pg_total_relation_size(c.oid)
    END::bigint AS total_bytes
FROM pg_inherits AS i
JOIN pg_class AS c ON c.oid = i.inhrelid AND c.relispartition
JOIN pg_class AS p ON p.oid = i.inhparent
JOIN pg_namespace AS pn ON pn.oid = p.relnamespace
WHERE p.oid = ANY(CAST(:oids AS oid[]))
ORDER BY 1, pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', 2
