-- Per-column planner statistics (pg_stats: only columns the role may read) in :schemas.
-- Value arrays come as their text form: pg_restore_attribute_stats takes them so, and
-- casts them back to the column's type.
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
       s.elem_count_histogram
FROM pg_stats AS s
WHERE s.schemaname = ANY(CAST(:schemas AS text[]))
ORDER BY s.schemaname, s.tablename, s.attname, s.inherited
