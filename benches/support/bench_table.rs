//! The PostgreSQL benchmarks' table: ROWS x 10 columns (bigint, integer,
//! double, numeric, text, timestamptz, boolean, a nullable text).

use crate::servers;

pub fn fill(pg: &servers::Postgres, db: &str, rows: u64) {
    pg.sql(
        db,
        &format!(
            "CREATE TABLE bench AS SELECT
                 g::bigint AS id,
                 g * 7919 % 1000003 AS qty,
                 (g % 1000)::int AS small,
                 g * 1.5::float8 / 7 AS ratio,
                 round((g / 3.0)::numeric, 2) AS amount,
                 md5(g::text) AS code,
                 'customer ' || g AS name,
                 timestamptz '2024-01-01 00:00:00+00' + g::int * interval '1 second' AS created_at,
                 (g % 2 = 0) AS flag,
                 CASE WHEN g % 10 = 0 THEN NULL ELSE repeat('x', 40) END AS note
             FROM generate_series(1::bigint, {rows}) g;
             ALTER TABLE bench ADD PRIMARY KEY (id);"
        ),
    );
    // Not in the transaction a batch of statements runs in.
    pg.sql(db, "VACUUM ANALYZE bench");
}
