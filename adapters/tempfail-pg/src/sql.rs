//! The statements, built once per queue from its validated, quoted names.

/// Every statement a queue runs, with the table's names filled in.
pub(crate) struct Sql {
    pub create: Vec<String>,
    pub insert: String,
    pub insert_batch: String,
    pub claim: String,
    pub complete: String,
    pub complete_batch: String,
    pub defer: String,
    pub release: String,
    pub extend: String,
    pub reap: String,
    pub cancel: String,
    pub reschedule: String,
    pub get: String,
    pub stats: String,
}

/// `"schema"."name"` and friends. Names are validated to `[a-z_][a-z0-9_]*`
/// before they get here, so quoting them is enough.
pub(crate) struct Names {
    pub schema: String,
    pub name: String,
}

impl Names {
    pub fn table(&self) -> String {
        format!("\"{}\".\"{}\"", self.schema, self.name)
    }
    pub fn meta(&self) -> String {
        format!("\"{}\".\"tempfail_meta\"", self.schema)
    }
    fn seq(&self) -> String {
        format!("\"{}\".\"{}_seq\"", self.schema, self.name)
    }
    /// The sequence as a `regclass` literal for `nextval`.
    fn nextval(&self) -> String {
        format!("nextval('{}'::regclass)", self.seq())
    }
}

impl Sql {
    pub fn new(n: &Names) -> Sql {
        let t = n.table();
        let nextval = n.nextval();
        let name = &n.name;
        let schema = &n.schema;
        Sql {
            create: vec![
                format!("CREATE SEQUENCE IF NOT EXISTS {}", n.seq()),
                // `key` compares bytewise (COLLATE "C"): cheaper, and the same on
                // every server whatever its locale. Times are milliseconds since
                // the Unix epoch. `lease_token` and `lease_expires` are both NULL
                // while the entry waits and both set while it is leased.
                format!(
                    "CREATE TABLE IF NOT EXISTS {t} (
                        key text COLLATE \"C\" PRIMARY KEY,
                        due bigint NOT NULL,
                        priority smallint NOT NULL,
                        seq bigint NOT NULL,
                        attempts bigint NOT NULL DEFAULT 0,
                        lease_token bigint,
                        lease_expires bigint,
                        item bytea NOT NULL,
                        CONSTRAINT \"{name}_lease_pair\"
                            CHECK ((lease_token IS NULL) = (lease_expires IS NULL))
                    ) WITH (
                        fillfactor = 80,
                        autovacuum_vacuum_scale_factor = 0.0,
                        autovacuum_vacuum_threshold = 5000,
                        autovacuum_vacuum_insert_scale_factor = 0.0,
                        autovacuum_vacuum_insert_threshold = 5000,
                        autovacuum_analyze_scale_factor = 0.0,
                        autovacuum_analyze_threshold = 5000,
                        autovacuum_vacuum_cost_delay = 0
                    )"
                ),
                // Claimable rows in claim order; also serves the walk over the
                // priorities in use.
                format!(
                    "CREATE INDEX IF NOT EXISTS \"{name}_ready\" ON {t} \
                     (priority DESC, due, seq) WHERE lease_token IS NULL"
                ),
                // Leases by expiry, for reap.
                format!(
                    "CREATE INDEX IF NOT EXISTS \"{name}_leases\" ON {t} \
                     (lease_expires, lease_token) WHERE lease_token IS NOT NULL"
                ),
                format!("ALTER SEQUENCE {} OWNED BY {t}.seq", n.seq()),
                format!(
                    "INSERT INTO \"{schema}\".\"tempfail_meta\" (queue, version) VALUES ($1, $2) \
                     ON CONFLICT (queue) DO NOTHING"
                ),
            ],
            insert: format!(
                "INSERT INTO {t} (key, due, priority, seq, item) \
                 VALUES ($1, $2, $3, {nextval}, $4) ON CONFLICT (key) DO NOTHING"
            ),
            insert_batch: format!(
                "INSERT INTO {t} (key, due, priority, seq, item) \
                 SELECT u.k, u.d, u.p, {nextval}, u.i FROM \
                 (SELECT k, d, p, i FROM unnest($1::text[], $2::int8[], $3::int2[], $4::bytea[]) \
                  WITH ORDINALITY AS x(k, d, p, i, n) ORDER BY n) u \
                 ON CONFLICT (key) DO NOTHING RETURNING key"
            ),
            // The claim. `bands` walks the priorities that have waiting rows,
            // most urgent first, one index probe each (a loose index scan), so
            // a band full of entries due later is never scanned. For each band
            // the lateral subquery reads the due rows in (due, seq) order from
            // the partial index and locks them with SKIP LOCKED: rows another
            // claimer holds are passed over, not waited for. The outer LIMIT
            // stops pulling once `max` rows are locked, so no extra rows are
            // locked, and MATERIALIZED fences the CTE: it runs once, whatever
            // the plan, so the UPDATE can never see more than `max` keys. A
            // row locked under SKIP LOCKED is re-read at its newest version
            // and its predicate re-checked; the UPDATE checks
            // `lease_token IS NULL` once more. Tokens come from the queue's
            // sequence in claim order.
            claim: format!(
                "WITH RECURSIVE bands(p) AS ( \
                    (SELECT priority FROM {t} WHERE lease_token IS NULL \
                     ORDER BY priority DESC LIMIT 1) \
                  UNION ALL \
                    SELECT (SELECT w.priority FROM {t} w \
                            WHERE w.lease_token IS NULL AND w.priority < b.p \
                            ORDER BY w.priority DESC LIMIT 1) \
                    FROM bands b WHERE b.p IS NOT NULL \
                 ), picked AS MATERIALIZED ( \
                    SELECT r.key, {nextval} AS token \
                    FROM bands CROSS JOIN LATERAL ( \
                        SELECT e.key FROM {t} e \
                        WHERE e.lease_token IS NULL AND e.priority = bands.p AND e.due <= $1 \
                        ORDER BY e.due, e.seq LIMIT $2 \
                        FOR UPDATE SKIP LOCKED \
                    ) r \
                    LIMIT $2 \
                 ) \
                 UPDATE {t} q SET lease_token = picked.token, lease_expires = $3, \
                    attempts = LEAST(q.attempts + 1, 4294967295) \
                 FROM picked WHERE q.key = picked.key AND q.lease_token IS NULL \
                 RETURNING q.key, q.item, q.due, q.priority, q.attempts, q.lease_token"
            ),
            complete: format!(
                "DELETE FROM {t} WHERE key = $1 AND lease_token = $2 AND lease_expires > $3"
            ),
            complete_batch: format!(
                "DELETE FROM {t} q USING unnest($1::text[], $2::int8[]) AS d(key, token) \
                 WHERE q.key = d.key AND q.lease_token = d.token AND q.lease_expires > $3 \
                 RETURNING q.key, q.lease_token"
            ),
            defer: format!(
                "UPDATE {t} SET due = $4, seq = {nextval}, lease_token = NULL, lease_expires = NULL \
                 WHERE key = $1 AND lease_token = $2 AND lease_expires > $3"
            ),
            release: format!(
                "UPDATE {t} SET seq = {nextval}, lease_token = NULL, lease_expires = NULL, \
                 attempts = GREATEST(attempts - 1, 0) \
                 WHERE key = $1 AND lease_token = $2 AND lease_expires > $3"
            ),
            extend: format!(
                "UPDATE {t} SET lease_expires = $4 \
                 WHERE key = $1 AND lease_token = $2 AND lease_expires > $3"
            ),
            // Expired leases in (expiry, token) order, each given a fresh
            // insertion number in that order. SKIP LOCKED: a row another
            // session is changing right now (its worker completing it, another
            // reaper) is left to that session; a later reap sees it if it is
            // still expired.
            reap: format!(
                "WITH r AS MATERIALIZED ( \
                    SELECT x.key, {nextval} AS s FROM ( \
                        SELECT key FROM {t} \
                        WHERE lease_token IS NOT NULL AND lease_expires <= $1 \
                        ORDER BY lease_expires, lease_token \
                        FOR UPDATE SKIP LOCKED) x \
                 ) \
                 UPDATE {t} q SET lease_token = NULL, lease_expires = NULL, seq = r.s FROM r \
                 WHERE q.key = r.key AND q.lease_token IS NOT NULL AND q.lease_expires <= $1"
            ),
            // One statement: the DELETE takes the row only when no live lease
            // holds it; the EXISTS (same snapshot) tells a busy entry from a
            // missing one.
            cancel: format!(
                "WITH del AS ( \
                    DELETE FROM {t} WHERE key = $1 \
                    AND (lease_token IS NULL OR lease_expires <= $2) RETURNING item) \
                 SELECT (SELECT item FROM del), EXISTS (SELECT 1 FROM {t} WHERE key = $1)"
            ),
            // A waiting entry keeps its insertion number; one whose lease
            // ended returns to waiting first, with a fresh one.
            reschedule: format!(
                "WITH upd AS ( \
                    UPDATE {t} SET due = $3, priority = $4, \
                    seq = CASE WHEN lease_token IS NULL THEN seq ELSE {nextval} END, \
                    lease_token = NULL, lease_expires = NULL \
                    WHERE key = $1 AND (lease_token IS NULL OR lease_expires <= $2) \
                    RETURNING 1) \
                 SELECT EXISTS (SELECT 1 FROM upd), EXISTS (SELECT 1 FROM {t} WHERE key = $1)"
            ),
            get: format!(
                "SELECT due, priority, attempts, lease_token, lease_expires, item \
                 FROM {t} WHERE key = $1"
            ),
            stats: format!(
                "SELECT priority, count(*), \
                    count(*) FILTER (WHERE lease_token IS NULL AND due <= $1), \
                    count(*) FILTER (WHERE lease_token IS NOT NULL), \
                    count(*) FILTER (WHERE lease_token IS NOT NULL AND lease_expires <= $1), \
                    min(due) FILTER (WHERE lease_token IS NULL AND due <= $1) \
                 FROM {t} GROUP BY priority"
            ),
        }
    }
}
