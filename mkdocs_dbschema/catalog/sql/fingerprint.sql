-- One value that changes whenever something a card shows may have changed, and stays
-- the same otherwise: `mkdocs serve` runs this alone on a rebuild and reuses its last
-- read while it matches.
--
-- Every catalog row carries the transaction that wrote its current version (xmin):
-- CREATE, ALTER, DROP, COMMENT, GRANT, CREATE POLICY / TRIGGER / RULE each write a new
-- row version. Per catalog, the row count and the sum of a hash of (row, xmin) catch an
-- insert, an update or a delete, in any order and without a sort. Only objects users
-- made (OID >= 16384, PostgreSQL's FirstNormalObjectId), temporary schemas left out.
-- VACUUM and ANALYZE overwrite reltuples / relpages in place (no new xmin): hashed as
-- values. Data changes show through the cumulative statistics of user tables: rows
-- inserted, updated, deleted, and vacuum / analyze counts (sizes, row counts and sample
-- rows follow them). Scans and buffer hits are left out: the build's own reads move them.
WITH temp AS (
    SELECT oid FROM pg_namespace WHERE nspname ~ '^pg_(toast_)?temp_'
),
rels AS (
    SELECT c.oid, c.xmin, c.relkind, c.reltuples, c.relpages
    FROM pg_class AS c
    WHERE c.oid >= 16384 AND c.relnamespace NOT IN (SELECT oid FROM temp)
),
parts (part, n, h) AS (
    SELECT 'class', count(*), sum(hashtext(concat_ws(':', oid, xmin, reltuples, relpages)))
    FROM rels
    UNION ALL
    SELECT 'attribute', count(*), sum(hashtext(concat_ws(':', a.attrelid, a.attnum, a.xmin)))
    FROM pg_attribute AS a WHERE a.attrelid IN (SELECT oid FROM rels)
    UNION ALL
    SELECT 'attrdef', count(*), sum(hashtext(concat_ws(':', oid, xmin)))
    FROM pg_attrdef WHERE adrelid IN (SELECT oid FROM rels)
    UNION ALL
    SELECT 'constraint', count(*), sum(hashtext(concat_ws(':', oid, xmin)))
    FROM pg_constraint WHERE oid >= 16384
    UNION ALL
    SELECT 'index', count(*), sum(hashtext(concat_ws(':', indexrelid, xmin)))
    FROM pg_index WHERE indexrelid IN (SELECT oid FROM rels)
    UNION ALL
    SELECT 'policy', count(*), sum(hashtext(concat_ws(':', oid, xmin)))
    FROM pg_policy WHERE oid >= 16384
    UNION ALL
    SELECT 'trigger', count(*), sum(hashtext(concat_ws(':', oid, xmin)))
    FROM pg_trigger WHERE oid >= 16384
    UNION ALL
    SELECT 'rewrite', count(*), sum(hashtext(concat_ws(':', oid, xmin)))
    FROM pg_rewrite WHERE oid >= 16384
    UNION ALL
    SELECT 'sequence', count(*), sum(hashtext(concat_ws(':', seqrelid, xmin)))
    FROM pg_sequence WHERE seqrelid >= 16384
    UNION ALL
    SELECT 'inherits', count(*), sum(hashtext(concat_ws(':', inhrelid, inhparent, xmin)))
    FROM pg_inherits WHERE inhrelid >= 16384
    UNION ALL
    SELECT 'depend', count(*), sum(hashtext(concat_ws(':', classid, objid, objsubid, refobjid, refobjsubid, deptype)))
    FROM pg_depend WHERE objid >= 16384
    UNION ALL
    SELECT 'description', count(*), sum(hashtext(concat_ws(':', objoid, classoid, objsubid, xmin)))
    FROM pg_description WHERE objoid >= 16384 OR classoid = 'pg_namespace'::regclass
    UNION ALL
    SELECT 'proc', count(*), sum(hashtext(concat_ws(':', oid, xmin)))
    FROM pg_proc WHERE oid >= 16384
    UNION ALL
    SELECT 'type', count(*), sum(hashtext(concat_ws(':', oid, xmin)))
    FROM pg_type WHERE oid >= 16384 AND typnamespace NOT IN (SELECT oid FROM temp)
    UNION ALL
    SELECT 'enum', count(*), sum(hashtext(concat_ws(':', oid, xmin)))
    FROM pg_enum WHERE enumtypid >= 16384
    UNION ALL
    SELECT 'namespace', count(*), sum(hashtext(concat_ws(':', oid, xmin)))
    FROM pg_namespace WHERE oid NOT IN (SELECT oid FROM temp)
    UNION ALL
    SELECT 'extension', count(*), sum(hashtext(concat_ws(':', oid, xmin)))
    FROM pg_extension
    UNION ALL
    SELECT 'foreign_table', count(*), sum(hashtext(concat_ws(':', ftrelid, xmin)))
    FROM pg_foreign_table
    UNION ALL
    -- pg_authid's row versions are for superusers only: names and attributes instead.
    SELECT 'roles', count(*), sum(hashtext(concat_ws(':', oid, rolname, rolsuper, rolbypassrls)))
    FROM pg_roles
    UNION ALL
    SELECT 'activity', count(*), sum(
        pg_stat_get_tuples_inserted(oid) + pg_stat_get_tuples_updated(oid)
        + pg_stat_get_tuples_deleted(oid) + pg_stat_get_vacuum_count(oid)
        + pg_stat_get_autovacuum_count(oid) + pg_stat_get_analyze_count(oid)
        + pg_stat_get_autoanalyze_count(oid)
    )
    FROM rels WHERE relkind IN ('r', 'm', 't')
)
SELECT md5(string_agg(concat_ws(':', part, n, h), ',' ORDER BY part)) AS fingerprint
FROM parts
