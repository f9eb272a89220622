//! The tables of Python bamboost's `bamboost.0.11.sqlite`, created with the exact DDL its
//! SQLAlchemy schema emits, and repaired when an older file lacks columns (as Python does on
//! every open).

use rusqlite::Connection;

/// `CREATE TABLE` statements, in dependency order (as read back from Python's `sqlite_master`).
const TABLES: [(&str, &str); 4] = [
    (
        "collections",
        "CREATE TABLE collections (\n\tuid VARCHAR NOT NULL, \n\tpath VARCHAR NOT NULL, \n\t\
         created_at DATETIME, \n\tdescription VARCHAR DEFAULT '' NOT NULL, \n\t\
         tags JSON DEFAULT '[]' NOT NULL, \n\taliases JSON DEFAULT '[]' NOT NULL, \n\t\
         author JSON DEFAULT 'null', \n\tPRIMARY KEY (uid)\n)",
    ),
    (
        "simulations",
        "CREATE TABLE simulations (\n\tid INTEGER NOT NULL, \n\tcollection_uid VARCHAR, \n\t\
         name VARCHAR NOT NULL, \n\tcreated_at DATETIME NOT NULL, \n\t\
         modified_at DATETIME NOT NULL, \n\tdescription VARCHAR, \n\t\
         tags JSON DEFAULT '[]' NOT NULL, \n\tstatus VARCHAR DEFAULT 'initialized' NOT NULL, \n\t\
         submitted BOOLEAN DEFAULT '0' NOT NULL, \n\tlinks JSON, \n\tPRIMARY KEY (id), \n\t\
         CONSTRAINT uix_collection_name UNIQUE (collection_uid, name), \n\t\
         FOREIGN KEY(collection_uid) REFERENCES collections (uid) ON DELETE CASCADE\n)",
    ),
    (
        "simulation_links",
        "CREATE TABLE simulation_links (\n\tid INTEGER NOT NULL, \n\t\
         source_id INTEGER NOT NULL, \n\ttarget_id INTEGER NOT NULL, \n\tname VARCHAR NOT NULL, \n\t\
         PRIMARY KEY (id), \n\tCONSTRAINT uix_source_link_name UNIQUE (source_id, name), \n\t\
         FOREIGN KEY(source_id) REFERENCES simulations (id) ON DELETE CASCADE, \n\t\
         FOREIGN KEY(target_id) REFERENCES simulations (id) ON DELETE CASCADE\n)",
    ),
    (
        "parameters",
        "CREATE TABLE parameters (\n\tid INTEGER NOT NULL, \n\tsimulation_id INTEGER NOT NULL, \n\t\
         \"key\" VARCHAR NOT NULL, \n\tvalue JSON NOT NULL, \n\tPRIMARY KEY (id), \n\t\
         CONSTRAINT uix_simulation_key UNIQUE (simulation_id, \"key\"), \n\t\
         FOREIGN KEY(simulation_id) REFERENCES simulations (id) ON DELETE CASCADE\n)",
    ),
];

/// Indexes Python's schema lacks (SQLite keeps them up to date whoever writes; Python ignores
/// them), by name:
/// - `ix_parameters_lookup`: a simulation's parameters, values included, in one b-tree, so that
///   a query reads them without visiting the table;
/// - `ix_parameters_value`: the values of one key in order, so that a filter such as `n > 95`
///   reads only the entries it matches instead of every simulation's;
/// - `ix_simulations_listing`: a collection's simulations in the default table order (newest
///   first, then by name) with what a table row shows, so that `bamboost list` reads them in
///   order from one b-tree: no sort of the whole collection before the first row.
const QUERY_INDEXES: [(&str, &str); 3] = [
    (
        "ix_parameters_lookup",
        "CREATE INDEX IF NOT EXISTS ix_parameters_lookup ON parameters (simulation_id, \"key\", value)",
    ),
    (
        "ix_parameters_value",
        "CREATE INDEX IF NOT EXISTS ix_parameters_value ON parameters (\"key\", value, simulation_id)",
    ),
    (
        "ix_simulations_listing",
        "CREATE INDEX IF NOT EXISTS ix_simulations_listing \
         ON simulations (collection_uid, created_at DESC, name, status)",
    ),
];

/// Every column with the definition `ALTER TABLE ... ADD COLUMN` uses for it: `NOT NULL` only
/// with a default (SQLite refuses it otherwise), as Python's drift repair does.
const COLUMNS: [(&str, &[(&str, &str)]); 4] = [
    (
        "collections",
        &[
            ("uid", "VARCHAR"),
            ("path", "VARCHAR"),
            ("created_at", "DATETIME"),
            ("description", "VARCHAR NOT NULL DEFAULT ''"),
            ("tags", "JSON NOT NULL DEFAULT '[]'"),
            ("aliases", "JSON NOT NULL DEFAULT '[]'"),
            ("author", "JSON DEFAULT 'null'"),
        ],
    ),
    (
        "simulations",
        &[
            ("id", "INTEGER"),
            ("collection_uid", "VARCHAR"),
            ("name", "VARCHAR"),
            ("created_at", "DATETIME"),
            ("modified_at", "DATETIME"),
            ("description", "VARCHAR"),
            ("tags", "JSON NOT NULL DEFAULT '[]'"),
            ("status", "VARCHAR NOT NULL DEFAULT 'initialized'"),
            ("submitted", "BOOLEAN NOT NULL DEFAULT '0'"),
            ("links", "JSON"),
        ],
    ),
    (
        "simulation_links",
        &[
            ("id", "INTEGER"),
            ("source_id", "INTEGER"),
            ("target_id", "INTEGER"),
            ("name", "VARCHAR"),
        ],
    ),
    (
        "parameters",
        &[
            ("id", "INTEGER"),
            ("simulation_id", "INTEGER"),
            ("key", "VARCHAR"),
            ("value", "JSON"),
        ],
    ),
];

/// Why a file is not a usable index.
pub(crate) enum SchemaError {
    /// SQLite failed.
    Sql(rusqlite::Error),
    /// The database belongs to something else.
    Foreign(String),
}

impl From<rusqlite::Error> for SchemaError {
    fn from(e: rusqlite::Error) -> Self {
        SchemaError::Sql(e)
    }
}

/// Checks that the database is empty or bamboost's, then creates missing tables and columns
/// (in one transaction) and the query indexes (skipped when the file is read-only).
pub(crate) fn prepare(conn: &mut Connection) -> Result<(), SchemaError> {
    let existing: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let ours = |name: &String| TABLES.iter().any(|(t, _)| t == name);
    if !existing.is_empty() && !existing.iter().any(ours) {
        return Err(SchemaError::Foreign(format!(
            "it holds the tables {} and none of bamboost's",
            existing.join(", ")
        )));
    }
    if TABLES
        .iter()
        .all(|(t, _)| existing.contains(&t.to_string()))
        && !needs_columns(conn)?
    {
        return add_query_indexes(conn);
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for (table, ddl) in TABLES {
        let present: bool = tx.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |row| row.get(0),
        )?;
        if !present {
            tx.execute_batch(ddl)?;
        }
    }
    for (table, columns) in COLUMNS {
        let have = column_names(&tx, table)?;
        for (column, definition) in columns {
            if !have.iter().any(|c| c == column) {
                tx.execute_batch(&format!(
                    "ALTER TABLE {table} ADD COLUMN \"{column}\" {definition}"
                ))?;
            }
        }
    }
    tx.commit()?;
    add_query_indexes(conn)
}

fn add_query_indexes(conn: &Connection) -> Result<(), SchemaError> {
    for (name, sql) in QUERY_INDEXES {
        let present: bool = conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?1",
            [name],
            |row| row.get(0),
        )?;
        if present {
            continue;
        }
        match conn.execute_batch(sql) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ReadOnly =>
            {
                // Queries still work, only slower.
                tracing::debug!("read-only index: {name} is not created");
                return Ok(());
            }
            other => other?,
        }
    }
    Ok(())
}

fn needs_columns(conn: &Connection) -> rusqlite::Result<bool> {
    for (table, columns) in COLUMNS {
        let have = column_names(conn, table)?;
        if columns.iter().any(|(c, _)| !have.iter().any(|h| h == c)) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn column_names(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare(&format!("PRAGMA table_info({table})"))?
        .query_map([], |row| row.get(1))?
        .collect()
}
