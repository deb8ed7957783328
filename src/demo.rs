//! The demo workspace: a small shop database and one sync per mode, so a new
//! user sees real files in seconds without any account.

use crate::error::{Error, Result};
use rusqlite::{params, Connection};
use std::path::{Path, PathBuf};

pub const CUSTOMERS: usize = 2500;
pub const ORDERS: usize = 6000;

const FIRST: &[&str] = &[
    "Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Dennis", "Frances", "Ken", "Radia",
    "Søren", "Zoë", "José", "Chloé", "Björn", "Aiko", "Mohammed", "Priya", "Olufemi", "Mei",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Turing",
    "Liskov",
    "Ritchie",
    "Allen",
    "Thompson",
    "Perlman",
    "Kierkegaard",
    "García",
    "O'Brien",
    "Müller",
    "Nakamura",
    "Okafor",
];
const COUNTRIES: &[&str] = &["DE", "FR", "GB", "US", "JP", "NG", "IN", "BR", "ES", "SE"];
const PRODUCTS: &[(&str, f64)] = &[
    ("Notebook, A5", 4.5),
    ("Fountain pen", 32.0),
    ("Ink \"midnight\" 50ml", 9.9),
    ("Desk lamp", 48.0),
    ("Paper clips (100)", 1.2),
    ("Stapler", 12.75),
];

/// The demo's sync files: (file name, content).
fn sync_files() -> Vec<(&'static str, String)> {
    vec![
        (
            "customers-all.toml",
            r#"# Every customer, every run, as one CSV file (overwritten daily).
[source]
type = "sqlite"
path = "shop.db"

[model]
name = "customers"
sql = "SELECT id, first_name, last_name, email, country, lifetime_value, created_at FROM customers ORDER BY id"
primary_key = "id"

[destination]
type = "folder"
path = "out"

[sync]
id = "demo-customers-all"
mode = "all"
format = "csv"
filename = "all/{model.name}-{YYYY}-{MM}-{DD}.csv"
"#
            .to_string(),
        ),
        (
            "customers-diff.toml",
            r#"# What changed since the last run: added, changed and removed customers,
# with mapped columns (renamed, a constant and a template).
[source]
type = "sqlite"
path = "shop.db"

[model]
name = "customers"
sql = "SELECT id, first_name, last_name, email, country, lifetime_value, created_at FROM customers ORDER BY id"
primary_key = "id"

[destination]
type = "folder"
path = "out"

[sync]
id = "demo-customers-diff"
mode = "diff"
format = "csv"
filename = "diff/run-{sync.run.id}/{model.name}.csv"
skip_empty_files = false

[sync.csv]
delimiter = ";"
header = true
bom = true

[[sync.columns]]
from = "id"
to = "customer_id"
[[sync.columns]]
template = "{{ first_name }} {{ last_name }}"
to = "full_name"
[[sync.columns]]
from = "email"
to = "Email"
[[sync.columns]]
value = "EMEA"
to = "region"
"#
            .to_string(),
        ),
        (
            "orders-insert.toml",
            r#"# New orders since the last run, as JSON.
[source]
type = "sqlite"
path = "shop.db"

[model]
name = "orders"
sql = "SELECT o.id, o.customer_id, c.email, o.product, o.quantity, o.amount, o.paid, o.ordered_at FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.id"
primary_key = "id"

[destination]
type = "folder"
path = "out"

[sync]
id = "demo-orders-insert"
mode = "insert"
format = "json"
filename = "orders/{YYYY}-{MM}-{DD}-{HH}{mm}{ss}-run{sync.run.id}.json"
skip_empty_files = true
"#
            .to_string(),
        ),
    ]
}

/// What `create` made.
pub struct Workspace {
    pub dir: PathBuf,
    pub database: PathBuf,
    pub sync_files: Vec<PathBuf>,
    pub output: PathBuf,
}

/// Creates (or re-creates) the demo workspace in `dir`.
pub fn create(dir: &Path) -> Result<Workspace> {
    let io = |what: &str, e| Error::io(format!("cannot {what} in {}", dir.display()), e);
    std::fs::create_dir_all(dir.join("out")).map_err(|e| io("create the demo folder", e))?;
    let database = dir.join("shop.db");
    let _ = std::fs::remove_file(&database);
    create_database(&database)?;
    let mut files = Vec::new();
    for (name, text) in sync_files() {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(|e| io("write the sync files", e))?;
        files.push(p);
    }
    Ok(Workspace {
        dir: dir.to_path_buf(),
        database,
        sync_files: files,
        output: dir.join("out"),
    })
}

fn create_database(path: &Path) -> Result<()> {
    let db_err = |e: rusqlite::Error| Error::Source {
        source_name: format!("sqlite {}", path.display()),
        message: format!("cannot create the demo database: {e}"),
    };
    let mut conn = Connection::open(path).map_err(db_err)?;
    conn.execute_batch(
        "CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            first_name TEXT NOT NULL,
            last_name TEXT NOT NULL,
            email TEXT NOT NULL,
            country TEXT,
            lifetime_value REAL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            customer_id INTEGER NOT NULL REFERENCES customers(id),
            product TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            amount REAL NOT NULL,
            paid INTEGER NOT NULL,
            ordered_at TEXT NOT NULL
        );",
    )
    .map_err(db_err)?;
    let mut rng = fastrand::Rng::with_seed(7);
    let tx = conn.transaction().map_err(db_err)?;
    {
        let mut ins = tx
            .prepare("INSERT INTO customers VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .map_err(db_err)?;
        for id in 1..=CUSTOMERS as i64 {
            let first = FIRST[rng.usize(..FIRST.len())];
            let last = LAST[rng.usize(..LAST.len())];
            let email = format!(
                "{}.{}{}@example.com",
                first.to_lowercase(),
                last.to_lowercase().replace('\'', ""),
                id
            );
            let country = if rng.u8(..20) == 0 {
                None
            } else {
                Some(COUNTRIES[rng.usize(..COUNTRIES.len())])
            };
            let ltv = (rng.f64() * 500_000.0).round() / 100.0;
            let created = format!(
                "2024-{:02}-{:02}T{:02}:{:02}:00Z",
                rng.u8(1..13),
                rng.u8(1..29),
                rng.u8(0..24),
                rng.u8(0..60)
            );
            ins.execute(params![id, first, last, email, country, ltv, created])
                .map_err(db_err)?;
        }
        let mut ins = tx
            .prepare("INSERT INTO orders VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .map_err(db_err)?;
        for id in 1..=ORDERS as i64 {
            let (product, price) = PRODUCTS[rng.usize(..PRODUCTS.len())];
            let qty = rng.i64(1..6);
            let amount = (price * qty as f64 * 100.0).round() / 100.0;
            let at = format!(
                "2025-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                rng.u8(1..13),
                rng.u8(1..29),
                rng.u8(0..24),
                rng.u8(0..60),
                rng.u8(0..60)
            );
            ins.execute(params![
                id,
                rng.i64(1..=CUSTOMERS as i64),
                product,
                qty,
                amount,
                rng.bool(),
                at
            ])
            .map_err(db_err)?;
        }
    }
    tx.commit().map_err(db_err)
}

/// Changes the demo data the way a day of business would: new customers and
/// orders, some customers edited, a few deleted. Returns a summary.
pub fn churn(database: &Path) -> Result<String> {
    let db_err = |e: rusqlite::Error| Error::Source {
        source_name: format!("sqlite {}", database.display()),
        message: format!("cannot change the demo database: {e}"),
    };
    let conn = Connection::open(database).map_err(db_err)?;
    let sql = "
        UPDATE customers SET email = 'new.' || email WHERE id % 97 = 0;
        UPDATE customers SET lifetime_value = lifetime_value + 100 WHERE id % 13 = 0;
        DELETE FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE id % 211 = 0);
        DELETE FROM customers WHERE id % 211 = 0;
        INSERT INTO customers (first_name, last_name, email, country, lifetime_value, created_at)
            SELECT 'New', 'Customer ' || value, 'new' || value || '@example.com', 'DE', 0, '2025-12-01T09:00:00Z'
            FROM (SELECT 1 AS value UNION ALL SELECT 2 UNION ALL SELECT 3);
        INSERT INTO orders (customer_id, product, quantity, amount, paid, ordered_at)
            SELECT id, 'Stapler', 1, 12.75, 0, '2025-12-01T09:05:00Z' FROM customers WHERE first_name = 'New';
    ";
    conn.execute_batch(sql).map_err(db_err)?;
    Ok("changed the email of 25 customers (and the unsynced lifetime value of 192), deleted 11 customers and their orders, added 3 customers and 3 orders".into())
}
