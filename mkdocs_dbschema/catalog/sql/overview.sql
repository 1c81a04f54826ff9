-- Every table, view, materialized view and foreign table of the documented schemas
-- (those of the documented tables, the named ones and the schemas on the
-- search_path, where unqualified names resolve), one row each with its columns, unique keys and outgoing foreign
-- keys aggregated as JSON. A partition is folded into its root.
WITH documented AS (
    SELECT DISTINCT relnamespace
    FROM pg_class
    WHERE oid = ANY(CAST(:oids AS oid[]))
    UNION
    SELECT oid
    FROM pg_namespace
    WHERE nspname = ANY(CAST(:schemas AS text[]))
    UNION
    SELECT oid
    FROM pg_namespace
    WHERE nspname = ANY(current_schemas(false))
),
roots AS (
    SELECT DISTINCT coalesce(pg_partition_root(c.oid), c.oid) AS oid
    FROM pg_class AS c
    WHERE c.relnamespace IN (SELECT relnamespace FROM documented)
      AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
),
-- Unique indexes that identify a row by plain columns: primary key, unique
-- constraints and unique indexes alike (an index backs each of them).
unique_keys AS (
    SELECT
        i.indrelid AS oid,
        i.indisprimary AS is_primary,
        array(
            SELECT a.attname
            FROM unnest(i.indkey[0:i.indnkeyatts - 1]) WITH ORDINALITY AS k (attnum, ord)
            JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            ORDER BY k.ord
        ) AS columns
    FROM pg_index AS i
    WHERE i.indrelid IN (SELECT oid FROM roots)
      AND i.indisunique
      AND i.indisvalid
      AND i.indpred IS NULL
      AND i.indexprs IS NULL
),
-- Per table, aggregated once and joined by hash: a lookup per table (or per column)
-- into these would make the read quadratic in the number of tables.
primary_keys AS (
    SELECT DISTINCT ON (oid) oid, columns
    FROM unique_keys
    WHERE is_primary
    ORDER BY oid
),
other_keys AS (
    SELECT
        u.oid,
        json_agg(DISTINCT to_jsonb(u.columns)) AS keys,
        array(SELECT DISTINCT unnest(array_agg(k.col))) AS columns
    FROM unique_keys AS u
    CROSS JOIN LATERAL unnest(u.columns) AS k (col)
    WHERE NOT u.is_primary
    GROUP BY u.oid
),
-- Keys declared on the root or on any partition; a partition's clones of its parent's
-- key (conparentid <> 0) are the same key, listed once.
foreign_keys AS (
    SELECT
        coalesce(pg_partition_root(con.conrelid), con.conrelid) AS oid,
        json_agg(DISTINCT jsonb_build_object(
            'name', con.conname,
            'columns', array(
                SELECT a.attname
                FROM unnest(con.conkey) WITH ORDINALITY AS k (attnum, ord)
                JOIN pg_attribute AS a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                ORDER BY k.ord
            ),
            'ref_table', format('%I.%I', fn.nspname, f.relname),
            'ref_schema', fn.nspname,
            'ref_name', f.relname,
            'ref_columns', array(
                SELECT a.attname
                FROM unnest(con.confkey) WITH ORDINALITY AS k (attnum, ord)
                JOIN pg_attribute AS a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
                ORDER BY k.ord
            )
        )) AS keys
    FROM pg_constraint AS con
    JOIN pg_class AS f ON f.oid = coalesce(pg_partition_root(con.confrelid), con.confrelid)
    JOIN pg_namespace AS fn ON fn.oid = f.relnamespace
    WHERE con.contype = 'f'
      AND con.conparentid = 0
      AND coalesce(pg_partition_root(con.conrelid), con.conrelid) IN (SELECT oid FROM roots)
    GROUP BY 1
)
SELECT
    format('%I.%I', n.nspname, c.relname) AS key,
    n.nspname AS schema,
    c.relname AS name,
    c.oid::regclass::text AS display,
    c.relkind,
    obj_description(c.oid, 'pg_class') AS comment,
    totals.row_estimate,
    totals.total_bytes,
    (
        SELECT json_agg(
            json_build_object(
                'name', a.attname,
                'type', format_type(a.atttypid, a.atttypmod),
                'nullable', NOT a.attnotnull,
                'comment', col_description(a.attrelid, a.attnum),
                'primary_key', coalesce(a.attname = ANY(pk.columns), false),
                'unique', coalesce(a.attname = ANY(ok.columns), false)
            )
            ORDER BY a.attnum
        )
        FROM pg_attribute AS a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    ) AS columns,
    ok.keys AS unique_keys,
    to_jsonb(pk.columns) AS primary_key,
    fk.keys AS foreign_keys,
    (
        SELECT format('%I.%I', pn.nspname, p.relname)
        FROM pg_inherits AS i
        JOIN pg_class AS p ON p.oid = i.inhparent
        JOIN pg_namespace AS pn ON pn.oid = p.relnamespace
        WHERE i.inhrelid = c.oid AND NOT c.relispartition
        ORDER BY i.inhseqno
        LIMIT 1
    ) AS parent,
    -- The relations a view or materialized view reads, through its rewrite rule.
    array(
        SELECT DISTINCT format('%I.%I', dn.nspname, d.relname)
        FROM pg_rewrite AS r
        JOIN pg_depend AS dep
            ON dep.classid = 'pg_rewrite'::regclass AND dep.objid = r.oid
            AND dep.refclassid = 'pg_class'::regclass AND dep.refobjid <> c.oid
        JOIN pg_class AS d ON d.oid = dep.refobjid
        JOIN pg_namespace AS dn ON dn.oid = d.relnamespace
        WHERE r.ev_class = c.oid AND c.relkind IN ('v', 'm')
    ) AS reads
FROM roots
JOIN pg_class AS c ON c.oid = roots.oid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
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
            WHEN c.relkind IN ('r', 'm', 'f') AND c.reltuples >= 0 THEN c.reltuples
        END::float8 AS row_estimate,
        coalesce(sum(pg_total_relation_size(m.oid)), 0)::bigint AS total_bytes
    FROM members
    JOIN pg_class AS m ON m.oid = members.oid
) AS totals
LEFT JOIN primary_keys AS pk ON pk.oid = c.oid
LEFT JOIN other_keys AS ok ON ok.oid = c.oid
LEFT JOIN foreign_keys AS fk ON fk.oid = c.oid
WHERE n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
ORDER BY 1  -- sorted again by code point in Python
