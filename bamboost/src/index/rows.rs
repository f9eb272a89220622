//! A query's simulations read on a helper thread: it steps SQLite through the rows and copies
//! them into batches while the calling thread decodes the batch before and runs the caller's
//! callback. Decoding and formatting cost about as much as SQLite's part, so on two cores a
//! long listing takes little more than the larger of the two.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, params_from_iter};
use std::ops::Range;
use std::sync::mpsc;

/// The columns a query selects, in this order (see [`Column`]).
pub(super) const COLUMNS: &str =
    "s.id, s.name, s.status, s.description, s.tags, s.created_at, s.links";

/// [`COLUMNS`] with only those a table row shows; the others read as NULL (each column read
/// costs SQLite and the copy).
pub(super) const ROW_COLUMNS: &str = "s.id, s.name, s.status, NULL, NULL, s.created_at, NULL";

/// The columns of [`COLUMNS`] after `s.id`.
#[derive(Clone, Copy)]
pub(super) enum Column {
    Name,
    Status,
    Description,
    Tags,
    CreatedAt,
    Links,
}

/// Simulations per batch: few, so that the caller starts early.
const BATCH: usize = 64;
/// Batches read ahead of the caller.
const AHEAD: usize = 4;

/// A value as SQLite returned it; text and blobs are ranges of the batch's bytes.
enum Stored {
    Null,
    Integer(i64),
    Real(f64),
    Text(Range<usize>),
    Blob(Range<usize>),
}

/// A stored value, borrowed from its batch.
#[derive(Clone, Copy)]
pub(super) enum Cell<'b> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'b str),
    /// Text that is not UTF-8.
    InvalidText(&'b [u8]),
    Blob(&'b [u8]),
}

impl<'b> Cell<'b> {
    /// The text; an error for anything else, as [`ValueRef::as_str`] gives.
    pub(super) fn as_str(self) -> rusqlite::Result<&'b str> {
        match self {
            Cell::Text(text) => Ok(text),
            other => other.value_ref().as_str().map_err(Into::into),
        }
    }

    fn value_ref(self) -> ValueRef<'b> {
        match self {
            Cell::Null => ValueRef::Null,
            Cell::Integer(i) => ValueRef::Integer(i),
            Cell::Real(f) => ValueRef::Real(f),
            Cell::Text(text) => ValueRef::Text(text.as_bytes()),
            Cell::InvalidText(bytes) => ValueRef::Text(bytes),
            Cell::Blob(bytes) => ValueRef::Blob(bytes),
        }
    }
}

struct Entry {
    columns: [Stored; 6],
    /// This simulation's (key, value) pairs in the batch's `parameters`.
    parameters: Range<usize>,
}

/// Simulations with their text and blobs one after the other: in `bytes` while the batch is
/// filled, in `text` once [`Batch::seal`] found them all UTF-8 (the usual case).
#[derive(Default)]
struct Batch {
    text: String,
    bytes: Vec<u8>,
    entries: Vec<Entry>,
    parameters: Vec<(Stored, Stored)>,
}

impl Batch {
    fn store(&mut self, value: ValueRef<'_>) -> Stored {
        let mut copy = |bytes: &[u8]| {
            let start = self.bytes.len();
            self.bytes.extend_from_slice(bytes);
            start..self.bytes.len()
        };
        match value {
            ValueRef::Null => Stored::Null,
            ValueRef::Integer(i) => Stored::Integer(i),
            ValueRef::Real(f) => Stored::Real(f),
            ValueRef::Text(t) => Stored::Text(copy(t)),
            ValueRef::Blob(b) => Stored::Blob(copy(b)),
        }
    }

    /// Checks all the text for UTF-8 in one pass (one call per value cost as much as SQLite's
    /// reading of it).
    fn seal(&mut self) {
        match String::from_utf8(std::mem::take(&mut self.bytes)) {
            Ok(text) => self.text = text,
            Err(e) => self.bytes = e.into_bytes(),
        }
    }

    /// The bytes of `range`, wherever they are.
    fn raw(&self, range: &Range<usize>) -> &[u8] {
        let all = if self.text.is_empty() {
            &self.bytes
        } else {
            self.text.as_bytes()
        };
        &all[range.clone()]
    }

    fn cell(&self, stored: &Stored) -> Cell<'_> {
        match stored {
            Stored::Null => Cell::Null,
            Stored::Integer(i) => Cell::Integer(*i),
            Stored::Real(f) => Cell::Real(*f),
            Stored::Text(range) => match self.text.get(range.clone()) {
                Some(text) => Cell::Text(text),
                // Somewhere in the batch is invalid UTF-8: this value alone decides.
                None => {
                    let bytes = self.raw(range);
                    std::str::from_utf8(bytes).map_or(Cell::InvalidText(bytes), Cell::Text)
                }
            },
            Stored::Blob(range) => Cell::Blob(self.raw(range)),
        }
    }

    fn clear(&mut self) {
        if self.text.capacity() > self.bytes.capacity() {
            self.bytes = std::mem::take(&mut self.text).into_bytes();
        }
        self.text.clear();
        self.bytes.clear();
        self.entries.clear();
        self.parameters.clear();
    }
}

/// One simulation's row and parameters.
pub(super) struct RawSimulation<'b> {
    batch: &'b Batch,
    entry: &'b Entry,
}

impl<'b> RawSimulation<'b> {
    /// Column `column` as text; `None` for NULL, an error for a number or invalid UTF-8.
    pub(super) fn text(&self, column: Column) -> rusqlite::Result<Option<&'b str>> {
        match self.batch.cell(&self.entry.columns[column as usize]) {
            Cell::Null => Ok(None),
            cell => cell.as_str().map(Some),
        }
    }

    /// The stored (key, value) pairs, in SQLite's order.
    pub(super) fn parameters(&self) -> impl Iterator<Item = (Cell<'b>, Cell<'b>)> + use<'b> {
        let batch = self.batch;
        batch.parameters[self.entry.parameters.clone()]
            .iter()
            .map(move |(key, value)| (batch.cell(key), batch.cell(value)))
    }
}

/// Runs `statement` (selecting [`COLUMNS`] or [`ROW_COLUMNS`], bound to `values`) in one read
/// transaction on a helper thread and calls `visit` with each simulation, in order, on this
/// thread. Returns the number of simulations. An error of `visit` stops the reading.
pub(super) fn for_each(
    conn: &mut Connection,
    statement: &str,
    values: &[Value],
    mut visit: impl FnMut(RawSimulation<'_>) -> rusqlite::Result<()>,
) -> rusqlite::Result<usize> {
    std::thread::scope(|scope| {
        let (full, batches) = mpsc::sync_channel(AHEAD);
        let (recycle, used) = mpsc::channel();
        let reader = scope.spawn(move || read(conn, statement, values, &full, &used));
        let mut count = 0;
        // Ends when the reader is done: it drops its sender. Returning early drops the
        // receiver, which stops the reader at its next batch.
        for batch in batches.iter() {
            for entry in &batch.entries {
                visit(RawSimulation {
                    batch: &batch,
                    entry,
                })?;
                count += 1;
            }
            // The reader may be done already; then the batch is simply freed.
            let _ = recycle.send(batch);
        }
        match reader.join() {
            Ok(result) => result.map(|()| count),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// The reader's side of [`for_each`]: sends full batches to `full`, reusing those that come
/// back through `used`.
fn read(
    conn: &mut Connection,
    statement: &str,
    values: &[Value],
    full: &mpsc::SyncSender<Batch>,
    used: &mpsc::Receiver<Batch>,
) -> rusqlite::Result<()> {
    // A read transaction: one snapshot, and no lock taken and released per statement.
    let tx = conn.transaction()?;
    {
        let mut simulations = tx.prepare_cached(statement)?;
        let mut parameters =
            tx.prepare_cached("SELECT \"key\", value FROM parameters WHERE simulation_id = ?1")?;
        let mut rows = simulations.query(params_from_iter(values.iter()))?;
        let mut batch = Batch::default();
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let mut columns = [const { Stored::Null }; 6];
            for (i, column) in columns.iter_mut().enumerate() {
                *column = batch.store(row.get_ref(i + 1)?);
            }
            let start = batch.parameters.len();
            let mut cursor = parameters.query([id])?;
            while let Some(p) = cursor.next()? {
                let pair = (batch.store(p.get_ref(0)?), batch.store(p.get_ref(1)?));
                batch.parameters.push(pair);
            }
            let parameters = start..batch.parameters.len();
            batch.entries.push(Entry {
                columns,
                parameters,
            });
            if batch.entries.len() == BATCH {
                batch.seal();
                let mut next = used.try_recv().unwrap_or_default();
                next.clear();
                if full.send(std::mem::replace(&mut batch, next)).is_err() {
                    // The caller stopped.
                    return Ok(());
                }
            }
        }
        batch.seal();
        if !batch.entries.is_empty() && full.send(batch).is_err() {
            return Ok(());
        }
    }
    tx.commit()
}
