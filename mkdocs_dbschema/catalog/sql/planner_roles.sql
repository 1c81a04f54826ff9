-- The roles policies in :schemas apply to: pg_dump leaves roles out, and a policy
-- naming a role that does not exist does not load.
SELECT DISTINCT r.rolname AS role
FROM pg_policy AS p
JOIN pg_class AS c ON c.oid = p.polrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_roles AS r ON r.oid = ANY(p.polroles)
WHERE n.nspname = ANY(CAST(:schemas AS text[]))
ORDER BY 1
