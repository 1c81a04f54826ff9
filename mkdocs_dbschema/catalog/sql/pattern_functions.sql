-- Code that planning a query pattern may run: the planner evaluates STABLE and
-- IMMUTABLE functions called with constant arguments, including those it meets
-- in views (and the views they read), column defaults, check constraints and
-- policies of the relations a pattern names, behind its operators and in casts. Built-in
-- functions and C functions of extensions are trusted; every other function is
-- listed with the word of the pattern that leads to it.
WITH RECURSIVE user_code AS (
    SELECT p.oid, format('%I.%I', n.nspname, p.proname) AS name, p.provolatile, l.lanname
    FROM pg_proc AS p
    JOIN pg_namespace AS n ON n.oid = p.pronamespace
    JOIN pg_language AS l ON l.oid = p.prolang
    WHERE p.oid >= 16384  -- FirstNormalObjectId: created after initdb
      AND NOT (
          l.lanname IN ('c', 'internal')
          AND EXISTS (
              SELECT FROM pg_depend AS d
              WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
          )
      )
),
-- Called with constant arguments: the planner evaluates no VOLATILE function, but
-- inlines SQL ones of any kind.
untrusted AS (
    SELECT oid, name FROM user_code WHERE provolatile <> 'v' OR lanname = 'sql'
),
called AS (
    SELECT word, u.name
    FROM unnest(CAST(:functions AS text[])) AS word
    JOIN pg_proc AS p ON p.proname = word
    JOIN untrusted AS u ON u.oid = p.oid
),
operated AS (
    SELECT word, u.name
    FROM unnest(CAST(:operators AS text[])) AS word
    JOIN pg_operator AS o ON o.oprname = word
    -- Its function, and the estimators planning calls to price it; selectivity estimation
    -- calls the operator's function on common values whatever its volatility.
    JOIN user_code AS u ON u.oid IN (o.oprcode::oid, o.oprrest::oid, o.oprjoin::oid)
),
-- Relations a word names, and the relations their views read, at any depth.
reached (word, relid) AS (
    SELECT word, c.oid
    FROM unnest(CAST(:relations AS text[])) AS word
    JOIN pg_class AS c ON c.relname = word AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
    UNION
    SELECT reached.word, d.refobjid
    FROM reached
    JOIN pg_rewrite AS r ON r.ev_class = reached.relid
    JOIN pg_depend AS d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
    WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid <> reached.relid
),
-- The objects of those relations whose expressions planning may evaluate.
parts (word, classid, objid) AS (
    SELECT reached.word, 'pg_rewrite'::regclass::oid, r.oid
    FROM reached JOIN pg_rewrite AS r ON r.ev_class = reached.relid
    UNION ALL
    SELECT reached.word, 'pg_attrdef'::regclass::oid, a.oid
    FROM reached JOIN pg_attrdef AS a ON a.adrelid = reached.relid
    UNION ALL
    SELECT reached.word, 'pg_policy'::regclass::oid, p.oid
    FROM reached JOIN pg_policy AS p ON p.polrelid = reached.relid
    UNION ALL
    SELECT reached.word, 'pg_constraint'::regclass::oid, k.oid
    FROM reached JOIN pg_constraint AS k ON k.conrelid = reached.relid AND k.contype = 'c'
),
used AS (
    SELECT parts.word, u.name
    FROM parts
    JOIN pg_depend AS d ON d.classid = parts.classid AND d.objid = parts.objid
    JOIN untrusted AS u ON u.oid = d.refobjid
    WHERE d.refclassid = 'pg_proc'::regclass
),
-- Cast functions fold with constants too: an explicit cast names its type
-- (`1::app.level`); an implicit or assignment cast applies where no type is named, so
-- it counts for every pattern (the word '').
casts AS (
    SELECT word, u.name
    FROM unnest(CAST(:relations AS text[])) AS word
    JOIN pg_type AS t ON t.typname = word
    JOIN pg_cast AS c ON c.casttarget = t.oid
    JOIN untrusted AS u ON u.oid = c.castfunc
    UNION
    SELECT '', u.name
    FROM pg_cast AS c
    JOIN untrusted AS u ON u.oid = c.castfunc
    WHERE c.castcontext IN ('i', 'a')
)
SELECT 'function' AS via, word, name FROM called
UNION
SELECT 'operator', word, name FROM operated
UNION
SELECT 'relation', word, name FROM used
UNION
SELECT 'cast', word, name FROM casts
ORDER BY 1, 2, 3
