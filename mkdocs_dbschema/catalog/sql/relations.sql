SELECT
    c.oid,
    format('%I.%I', n.nspname, c.relname) AS key,
    n.nspname AS schema,
    c.relname AS name,
    c.oid::regclass::text AS display,
    c.relkind,
    obj_description(c.oid, 'pg_class') AS comment,
    totals.row_estimate,
    totals.total_bytes,
    totals.table_bytes,
    totals.index_bytes,
    c.relrowsecurity AS rls_enabled,
    c.relforcerowsecurity AS rls_forced,
    row_security_active(c.oid) AS rls_active,
    c.relispopulated AS populated,
    CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
    CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
    (
        SELECT i.inhparent::regclass::text
        FROM pg_inherits AS i
        WHERE i.inhrelid = c.oid AND c.relispartition
    ) AS parent,
    CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS view_definition,
    -- Storage parameters and view options (security_invoker, security_barrier, check_option).
    coalesce(c.reloptions, '{}') AS options,
    -- The partition root of a partition (sub-partitions included), as a key.
    (
        SELECT format('%I.%I', rn.nspname, r.relname)
        FROM pg_class AS r JOIN pg_namespace AS rn ON rn.oid = r.relnamespace
        WHERE r.oid = pg_partition_root(c.oid) AND c.relispartition
    ) AS root,
    -- A foreign table's server, its wrapper and its options.
    (
        SELECT format('%s (%s)', quote_ident(s.srvname), quote_ident(w.fdwname))
        FROM pg_foreign_table AS ft
        JOIN pg_foreign_server AS s ON s.oid = ft.ftserver
        JOIN pg_foreign_data_wrapper AS w ON w.oid = s.srvfdw
        WHERE ft.ftrelid = c.oid
    ) AS foreign_server,
    array(
        SELECT format('%s %s', quote_ident(o.option_name), quote_literal(o.option_value))
        FROM pg_foreign_table AS ft
        CROSS JOIN LATERAL pg_options_to_table(ft.ftoptions) AS o
        WHERE ft.ftrelid = c.oid
    ) AS foreign_options,
    -- The relations a view or materialized view reads, through its rewrite rule.
    array(
        SELECT DISTINCT format('%I.%I', dn.nspname, d.relname)
        FROM pg_rewrite AS r
        JOIN pg_depend AS dep
            ON dep.classid = 'pg_rewrite'::regclass AND dep.objid = r.oid
            AND dep.refclassid = 'pg_class'::regclass AND dep.refobjid <> c.oid
        JOIN pg_class AS d ON d.oid = dep.refobjid
        JOIN pg_namespace AS dn ON dn.oid = d.relnamespace
        WHERE r.ev_class = c.oid AND c.relkind IN ('v', 'm') AND r.rulename = '_RETURN'
    ) AS reads,
    -- Table privileges granted, per role (the owner's implicit ones aside).
    array(
        SELECT format('%s: %s', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x.grantee)) END,
            string_agg(x.privilege_type || CASE WHEN x.is_grantable THEN ' (WITH GRANT OPTION)' ELSE '' END,
                ', ' ORDER BY x.privilege_type))
        FROM aclexplode(c.relacl) AS x
        WHERE x.grantee <> c.relowner
        GROUP BY x.grantee
        ORDER BY 1
    ) AS grants,
    pg_get_userbyid(c.relowner) AS owner,
    -- Activity statistics (NULL for views): they change as the database is used.
    st.seq_scan,
    st.idx_scan,
    st.n_tup_ins AS inserts,
    st.n_tup_upd AS updates,
    st.n_tup_del AS deletes,
    st.n_live_tup AS live_tuples,
    st.n_dead_tup AS dead_tuples,
    to_char(greatest(st.last_vacuum, st.last_autovacuum) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')
        AS last_vacuum,
    to_char(greatest(st.last_analyze, st.last_autoanalyze) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')
        AS last_analyze,
    -- Buffer cache: blocks found in shared buffers vs read from disk (or the OS cache).
    io.heap_blks_hit AS heap_hits,
    io.heap_blks_read AS heap_reads,
    io.idx_blks_hit AS index_hits,
    io.idx_blks_read AS index_reads
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_all_tables AS st ON st.relid = c.oid
LEFT JOIN pg_statio_all_tables AS io ON io.relid = c.oid
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
        coalesce(sum(sizes.table_size + sizes.indexes_size), 0)::bigint AS total_bytes,
        coalesce(sum(sizes.relation_size), 0)::bigint AS table_bytes,
        coalesce(sum(sizes.indexes_size), 0)::bigint AS index_bytes
    FROM members
    JOIN pg_class AS m ON m.oid = members.oid
    -- pg_total_relation_size is pg_table_size plus pg_indexes_size: added here, each index
    -- is measured once, not twice. (Volatile functions: the subquery runs once a member.)
    CROSS JOIN LATERAL (
        SELECT
            pg_table_size(m.oid) AS table_size,
            pg_indexes_size(m.oid) AS indexes_size,
            pg_relation_size(m.oid) AS relation_size
    ) AS sizes
) AS totals
WHERE c.oid = ANY(CAST(:oids AS oid[]))
ORDER BY 2
