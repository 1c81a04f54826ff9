-- Rewrite rules of the documented relations (CREATE RULE), as PostgreSQL prints
-- them; a view's own _RETURN rule is its definition, shown elsewhere.
SELECT
    format('%I.%I', n.nspname, c.relname) AS key,
    r.rulename AS name,
    pg_get_ruledef(r.oid, true) AS definition,
    CASE r.ev_type WHEN '1' THEN 'SELECT' WHEN '2' THEN 'UPDATE' WHEN '3' THEN 'INSERT' ELSE 'DELETE' END
        AS event,
    r.is_instead AS instead,
    CASE r.ev_enabled
        WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled'
        WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always'
    END AS enabled,
    obj_description(r.oid, 'pg_rewrite') AS comment
FROM pg_rewrite AS r
JOIN pg_class AS c ON c.oid = r.ev_class
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.oid = ANY(CAST(:oids AS oid[]))
  AND r.rulename <> '_RETURN'
ORDER BY 1, r.rulename
