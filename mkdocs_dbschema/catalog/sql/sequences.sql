-- Sequences the documented tables own (serial and identity columns): how they
-- count, never where they are (the current value changes with every insert).
SELECT
    format('%I.%I', tn.nspname, t.relname) AS key,
    s.oid::regclass::text AS name,
    a.attname AS "column",
    CASE d.deptype WHEN 'i' THEN 'identity' ELSE 'owned' END AS ownership,
    format_type(q.seqtypid, NULL) AS type,
    q.seqstart AS start,
    q.seqincrement AS increment,
    q.seqmin AS min_value,
    q.seqmax AS max_value,
    q.seqcache AS cache,
    q.seqcycle AS cycle,
    obj_description(s.oid, 'pg_class') AS comment
FROM pg_depend AS d
JOIN pg_class AS s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_sequence AS q ON q.seqrelid = s.oid
JOIN pg_class AS t ON t.oid = d.refobjid
JOIN pg_namespace AS tn ON tn.oid = t.relnamespace
JOIN pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_class'::regclass
  AND d.refclassid = 'pg_class'::regclass
  AND d.deptype IN ('a', 'i')
  AND d.refobjid = ANY(CAST(:oids AS oid[]))
ORDER BY 1, a.attnum, 2
