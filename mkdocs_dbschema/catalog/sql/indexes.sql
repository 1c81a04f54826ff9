SELECT
    format('%I.%I', n.nspname, c.relname) AS key,
    ic.relname AS name,
    pg_get_indexdef(i.indexrelid) AS definition,
    am.amname AS method,
    i.indisunique AS "unique",
    i.indisprimary AS "primary",
    i.indpred IS NOT NULL AS partial,
    i.indexprs IS NOT NULL AS expression,
    i.indisvalid AS valid,
    CASE
        -- A partitioned index stores nothing itself: add up its partitions' indexes.
        WHEN ic.relkind = 'I' THEN (
            WITH RECURSIVE t (relid) AS (
                SELECT i.indexrelid
                UNION ALL
                SELECT i.inhrelid FROM t JOIN pg_inherits AS i ON i.inhparent = t.relid
            )
            SELECT coalesce(sum(pg_relation_size(t.relid)), 0)
            FROM t
        )
        ELSE pg_relation_size(i.indexrelid)
    END::bigint AS size_bytes,
    -- What the index is made of, names aside: equal for indexes that do the same work.
    concat_ws(' ', am.amname, i.indkey::text, i.indclass::text, i.indcollation::text,
        i.indoption::text, i.indnkeyatts, pg_get_expr(i.indexprs, i.indrelid),
        'WHERE ' || pg_get_expr(i.indpred, i.indrelid)) AS structure,
    array(
        SELECT coalesce(a.attname, '')
        FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k (attnum, ord)
        LEFT JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE k.ord <= i.indnkeyatts
        ORDER BY k.ord
    ) AS columns,
    con.conname AS "constraint",
    ic.relkind = 'I' AS partitioned,
    -- A partition's copy of its parent's index: it goes only with the parent's.
    EXISTS (SELECT FROM pg_inherits AS inh WHERE inh.inhrelid = i.indexrelid) AS attached,
    CASE
        -- A partitioned index keeps no statistics itself: add up its partitions' indexes.
        WHEN ic.relkind = 'I' THEN (
            WITH RECURSIVE t (relid) AS (
                SELECT i.indexrelid
                UNION ALL
                SELECT i.inhrelid FROM t JOIN pg_inherits AS i ON i.inhparent = t.relid
            )
            SELECT coalesce(sum(ps.idx_scan), 0)::bigint
            FROM t
            JOIN pg_stat_all_indexes AS ps ON ps.indexrelid = t.relid
        )
        ELSE coalesce(st.idx_scan, 0)
    END AS scans,
    obj_description(i.indexrelid, 'pg_class') AS comment
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_class AS ic ON ic.oid = i.indexrelid
JOIN pg_am AS am ON am.oid = ic.relam
LEFT JOIN pg_stat_all_indexes AS st ON st.indexrelid = i.indexrelid
LEFT JOIN pg_constraint AS con
    ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
WHERE c.oid = ANY(CAST(:oids AS oid[]))
ORDER BY 1, NOT i.indisprimary, ic.relname
