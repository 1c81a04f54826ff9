-- Per-column planner statistics (pg_stats: only columns the role may read) in :schemas.
-- Value arrays come as their text form, which pg_restore_attribute_stats takes and casts
-- back to the column's type. `labelled`: an enum or boolean column, whose values the
-- schema itself names; `table_column`: a column of a table (pg_stats also describes the
-- expressions of expression indexes, which no column-name rule can judge); `json`:
-- values whose keys only a walk through them could judge.
SELECT s.schemaname AS schema,
       s.tablename AS "table",
       s.attname AS "column",
       s.inherited,
       s.null_frac,
       s.avg_width,
       s.n_distinct,
       s.most_common_vals::text AS most_common_vals,
       s.most_common_freqs,
       s.histogram_bounds::text AS histogram_bounds,
       s.correlation,
       s.most_common_elems::text AS most_common_elems,
       s.most_common_elem_freqs,
       s.elem_count_histogram,
       coalesce(t.typtype = 'e' OR t.oid = 'boolean'::regtype, false) AS labelled,
       coalesce(c.relkind IN ('r', 'p', 'm', 'f'), false) AS table_column,
       coalesce(t.oid IN ('json'::regtype, 'jsonb'::regtype), false) AS json
FROM pg_stats AS s
JOIN pg_namespace AS n ON n.nspname = s.schemaname
JOIN pg_class AS c ON c.relnamespace = n.oid AND c.relname = s.tablename
LEFT JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attname = s.attname AND NOT a.attisdropped
LEFT JOIN pg_type AS t ON t.oid = a.atttypid
WHERE s.schemaname = ANY(CAST(:schemas AS text[]))
ORDER BY s.schemaname, s.tablename, s.attname, s.inherited
