//! The command-line tool shared by the two binaries: `bamboost` and `bamboost-hdf5` differ only
//! in [`SimulationFiles`], the two commands that read simulation files.
//!
//! Every listing prints a table for people, or with `--json` a stable JSON document for
//! scripts (documented in the book, chapter "Finding your data"). Exit codes: 0 success,
//! 1 an error (the message says what to do), 2 a usage error.

use bamboost::collection::{Collection, Filter, SimulationRecord};
use bamboost::config::Config;
use bamboost::h5::AttrValue;
use bamboost::index::{CollectionEntry, Index, Progress, Query, SyncReport};
use bamboost::mpi::CommSlot;
use bamboost::simulation::{Parameter, Parameters};
use chrono::{Datelike, Timelike};
use clap::{Args, CommandFactory, Parser, Subcommand};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

/// Find and organise simulation data: collections, simulations and the index.
#[derive(Parser)]
#[command(name = "bamboost", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the collections; with a UID or alias, its simulations; with a name as well, one
    /// simulation.
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Search the search paths for collections and record them in the index.
    Scan(JsonFlag),
    /// Remove collections whose directory is gone from the index (valid collections stay,
    /// even outside the search paths).
    Clean(JsonFlag),
    /// Create a collection at PATH and record it in the index.
    New {
        /// The directory to create (it must not exist).
        path: PathBuf,
        /// An alias (may be repeated).
        #[arg(short, long = "alias")]
        alias: Vec<String>,
        /// A description.
        #[arg(short, long)]
        description: Option<String>,
        /// Tags, comma-separated.
        #[arg(short, long)]
        tags: Option<String>,
    },
    /// Operations on the index itself.
    Index {
        #[command(subcommand)]
        command: IndexCommand,
    },
    /// Manage the aliases of a collection (stored in its identifier file and the index).
    Alias {
        #[command(subcommand)]
        command: AliasCommand,
    },
    /// Show the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Args)]
struct JsonFlag {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ListArgs {
    /// A collection UID or alias.
    collection: Option<String>,
    /// A simulation name in that collection.
    simulation: Option<String>,
    /// Sync the collection with its files first.
    #[arg(short, long)]
    sync: bool,
    /// Show at most N simulations.
    #[arg(short = 'n', long = "entries", value_name = "N")]
    entries: Option<usize>,
    /// Keep simulations matching `KEY OP VALUE` (OP one of == != < <= > >=; may be repeated,
    /// all must hold), e.g. --filter 'mesh.size>3' --filter 'solver==cg'.
    #[arg(short, long, value_name = "EXPR")]
    filter: Vec<String>,
    /// Keep simulations holding all these tags (comma-separated).
    #[arg(long, value_name = "TAGS")]
    tags: Option<String>,
    /// Sort by KEY (repeatable; `-KEY` or `KEY:desc` for descending). Default: the
    /// configuration's sortTableKey and sortTableOrder.
    #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
    sort: Vec<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum IndexCommand {
    /// Remove a collection (by UID or alias) from the index; nothing on disk is touched.
    Drop {
        /// UID or alias.
        collection: String,
    },
    /// Print the index file in use.
    Path,
}

#[derive(Subcommand)]
enum AliasCommand {
    /// Add ALIAS to collection UID.
    Add {
        /// UID or alias of the collection.
        collection: String,
        /// The new alias.
        alias: String,
    },
    /// Remove ALIAS from collection UID.
    Remove {
        /// UID or alias of the collection.
        collection: String,
        /// The alias to remove.
        alias: String,
    },
    /// Print the UID of the collection with ALIAS.
    Get {
        /// The alias.
        alias: String,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the active configuration (as computed for DIR, default the current directory).
    Print {
        /// Compute the configuration for this project directory.
        #[arg(short, long)]
        dir: Option<PathBuf>,
    },
}

/// What reads simulation files (HDF5): `list --sync` and `list <UID> <name>`.
pub(crate) trait SimulationFiles {
    /// Brings the index of collection `key` up to date with its files.
    fn sync(index: &Index, key: &str) -> Result<SyncReport>;

    /// Prints simulation `name` of collection `key`: parameters, metadata, series summary.
    fn show(index: &Index, key: &str, name: &str, as_json: bool) -> Result<()>;
}

/// Runs the command line, reading simulation files through `F`.
pub(crate) fn main<F: SimulationFiles>() -> ExitCode {
    let cli = Cli::parse();
    // A command-line tool is one process: never MPI, even in a build with the `mpi` feature.
    let _ = bamboost::mpi::set_enabled(false);
    // Warnings (locked files skipped, rejected configuration values) go to stderr, plainly.
    tracing_subscriber_init();
    match run::<F>(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Prints `WARN` and above to stderr, without timestamps or targets.
fn tracing_subscriber_init() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::WARN)
        .without_time()
        .with_target(false)
        .init();
}

pub(crate) type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn run<F: SimulationFiles>(command: Command) -> Result<()> {
    match command {
        Command::List(args) => list::<F>(args),
        Command::Scan(flag) => {
            let found = open_index(true)?.scan()?;
            print_collections(&found, flag.json)
        }
        Command::Clean(flag) => {
            let removed = open_index(false)?.check_integrity()?;
            if flag.json {
                return print_json(
                    &json!({"removed": removed.iter().map(collection_json).collect::<Vec<_>>()}),
                );
            }
            println!(
                "removed {} collection(s) whose directory is gone",
                removed.len()
            );
            for entry in &removed {
                println!("  {}  {}", entry.uid, entry.path.display());
            }
            Ok(())
        }
        Command::New {
            path,
            alias,
            description,
            tags,
        } => new_collection(&path, &alias, description.as_deref(), tags.as_deref()),
        Command::Index { command } => match command {
            IndexCommand::Drop { collection } => {
                let dropped = open_index(false)?.drop_collection(&collection)?;
                println!(
                    "removed collection {} ({}) from the index; its files are untouched",
                    dropped.uid,
                    dropped.path.display()
                );
                Ok(())
            }
            IndexCommand::Path => {
                println!("{}", Config::cached()?.index.database_file.display());
                Ok(())
            }
        },
        Command::Alias { command } => alias(command),
        Command::Config { command } => match command {
            ConfigCommand::Print { dir } => {
                let config = match dir {
                    Some(dir) => Config::load_from(
                        &std::path::absolute(&dir)?,
                        std::env::var_os("HOME").map(PathBuf::from).as_deref(),
                    )?,
                    None => Config::cached()?.clone(),
                };
                if let Some(root) = &config.project_root {
                    println!("# project: {}", root.display());
                }
                print!("{}", config.to_toml());
                Ok(())
            }
        },
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "bamboost",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    }
}

/// The configured index, with progress bars on a terminal.
fn open_index(progress: bool) -> Result<Index> {
    let index = Index::open_default()?;
    if !progress || !std::io::stderr().is_terminal() {
        return Ok(index);
    }
    let bar: Arc<Mutex<Option<(&'static str, indicatif::ProgressBar)>>> = Arc::default();
    Ok(index.with_progress(Arc::new(move |p: Progress| {
        let mut guard = bar
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.as_ref().is_none_or(|(task, _)| *task != p.task) {
            if let Some((_, old)) = guard.take() {
                old.finish_and_clear();
            }
            let new = match p.total {
                Some(total) => indicatif::ProgressBar::new(total),
                None => indicatif::ProgressBar::new_spinner(),
            };
            let template = match p.total {
                Some(_) => "{msg} [{bar:30}] {pos}/{len} ({eta})",
                None => "{msg} {spinner} {pos} directories",
            };
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                new.set_style(style.progress_chars("=> "));
            }
            new.set_message(match p.task {
                "sync" => "reading files",
                _ => "searching",
            });
            *guard = Some((p.task, new));
        }
        if let Some((_, bar)) = guard.as_ref() {
            bar.set_position(p.done);
            if p.total.is_some_and(|t| p.done >= t) {
                bar.finish_and_clear();
            }
        }
    })))
}

fn list<F: SimulationFiles>(args: ListArgs) -> Result<()> {
    let index = open_index(args.sync)?;
    let Some(key) = &args.collection else {
        return print_collections(&index.collections()?, args.json);
    };
    if args.sync {
        let report = F::sync(&index, key)?;
        report_skipped(&report);
    }
    if let Some(name) = &args.simulation {
        return F::show(&index, key, name, args.json);
    }
    let mut query = Query::new();
    for expression in &args.filter {
        query = query.filter(parse_filter(expression)?);
    }
    if let Some(tags) = &args.tags {
        query = query.filter(Filter::tags(split_list(tags)));
    }
    let options = &Config::cached()?.options;
    if args.sort.is_empty() {
        query = query.sort(&options.sort_table_key, options.sort_table_order == "asc");
    }
    for key in &args.sort {
        let (key, ascending) = match (key.strip_prefix('-'), key.strip_suffix(":desc")) {
            (Some(k), _) | (_, Some(k)) => (k, false),
            _ => (key.strip_suffix(":asc").unwrap_or(key), true),
        };
        query = query.sort(key, ascending);
    }
    if let Some(n) = args.entries {
        query = query.limit(n);
    }
    if args.json {
        let records = index.query(key, &query)?;
        return print_json(&Value::Array(records.iter().map(record_json).collect()));
    }
    print_records(&index, key, &query)
}

fn report_skipped(report: &SyncReport) {
    for name in &report.locked {
        eprintln!("note: `{name}` is locked by a running job; its index entry may be stale");
    }
    for (name, reason) in &report.invalid {
        eprintln!("note: `{name}` was skipped: {reason}");
    }
}

/// Parses `key OP value`; the value is JSON-like (numbers, true/false, null/None, lists,
/// quoted or bare strings).
fn parse_filter(expression: &str) -> Result<Filter> {
    let invalid = |reason: &str| bamboost::Error::InvalidFilter {
        expression: expression.to_owned(),
        reason: reason.to_owned(),
    };
    let ops = ["==", "!=", "<=", ">=", "<", ">", "="];
    let (at, op) = ops
        .iter()
        .filter_map(|op| expression.find(op).map(|i| (i, *op)))
        .min_by_key(|(i, op)| (*i, std::cmp::Reverse(op.len())))
        .ok_or_else(|| invalid("expected KEY OP VALUE with OP one of == != < <= > >="))?;
    let key = expression[..at].trim();
    let text = expression[at + op.len()..].trim();
    if key.is_empty() {
        return Err(invalid("the key is empty").into());
    }
    let value = parse_value(text);
    Ok(match op {
        "==" | "=" => Filter::eq(key, value),
        "!=" => Filter::ne(key, value),
        "<" => Filter::lt(key, value),
        "<=" => Filter::le(key, value),
        ">" => Filter::gt(key, value),
        _ => Filter::ge(key, value),
    })
}

fn parse_value(text: &str) -> AttrValue {
    match text {
        "true" | "True" => return AttrValue::Bool(true),
        "false" | "False" => return AttrValue::Bool(false),
        "null" | "None" | "none" => return AttrValue::None,
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return AttrValue::Int(i);
    }
    if let Ok(f) = text.parse::<f64>() {
        return AttrValue::Float(f);
    }
    if text.starts_with('[')
        && let Ok(json) = serde_json::from_str::<Value>(text)
        && let Ok(params) = Parameters::from_json(&json!({ "v": json }))
        && let Some(value) = params.value("v")
    {
        return value.clone();
    }
    let unquoted = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .or_else(|| text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')))
        .unwrap_or(text);
    AttrValue::Str(unquoted.to_owned())
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn new_collection(
    path: &Path,
    aliases: &[String],
    description: Option<&str>,
    tags: Option<&str>,
) -> Result<()> {
    if path.exists() {
        return Err(format!(
            "{} already exists; to index an existing collection run `bamboost scan`",
            path.display()
        )
        .into());
    }
    let collection = Collection::open(path)?;
    let mut metadata = collection.metadata()?;
    metadata.set_description(description);
    if let Some(tags) = tags {
        metadata.set_tags(split_list(tags));
    }
    for alias in aliases {
        metadata.add_alias(alias);
    }
    collection.save_metadata(&metadata)?;
    let entry = open_index(false)?.add_collection(collection.path())?;
    println!(
        "created collection {} at {}",
        entry.uid,
        entry.path.display()
    );
    Ok(())
}

fn alias(command: AliasCommand) -> Result<()> {
    let index = open_index(false)?;
    match command {
        AliasCommand::Get { alias } => {
            println!("{}", index.collection(&alias)?.uid);
            Ok(())
        }
        AliasCommand::Add { collection, alias } => edit_aliases(&index, &collection, &alias, true),
        AliasCommand::Remove { collection, alias } => {
            edit_aliases(&index, &collection, &alias, false)
        }
    }
}

/// Adds or removes an alias in the identifier file, then updates the index from it.
fn edit_aliases(index: &Index, collection: &str, alias: &str, add: bool) -> Result<()> {
    let entry = index.collection(collection)?;
    let opened = Collection::open_existing(&entry.path, CommSlot::new())?;
    let mut metadata = opened.metadata()?;
    let changed = if add {
        metadata.add_alias(alias)
    } else {
        metadata.remove_alias(alias)
    };
    if changed {
        opened.save_metadata(&metadata)?;
        index.add_collection(&entry.path)?;
    }
    let what = match (add, changed) {
        (true, true) => "added to",
        (false, true) => "removed from",
        (true, false) => "was already an alias of",
        (false, false) => "is not an alias of",
    };
    println!("`{alias}` {what} {}", entry.uid);
    Ok(())
}

fn collection_json(entry: &CollectionEntry) -> Value {
    json!({
        "uid": entry.uid,
        "path": entry.path,
        "created_at": entry.created_at.map(|t| t.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
        "description": entry.description,
        "tags": entry.tags,
        "aliases": entry.aliases,
    })
}

pub(crate) fn record_json(record: &SimulationRecord) -> Value {
    json!({
        "name": record.name,
        "status": record.status.to_string(),
        "created_at": record.created_at.map(|t| t.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
        "description": record.description,
        "tags": record.tags,
        "parameters": record.parameters.to_json(),
        "links": record.links,
    })
}

pub(crate) fn print_json(value: &Value) -> Result<()> {
    write_out(&format!("{}\n", serde_json::to_string_pretty(value)?))
}

/// Writes to stdout; a closed pipe (`bamboost list | head`) is not an error.
pub(crate) fn write_out(text: &str) -> Result<()> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn print_collections(entries: &[CollectionEntry], as_json: bool) -> Result<()> {
    if as_json {
        return print_json(&Value::Array(entries.iter().map(collection_json).collect()));
    }
    let mut table = Table::new(&["uid", "path", "aliases", "tags", "description"]);
    for e in entries {
        table.cell(0, &e.uid);
        table.cell(1, e.path.display());
        table.cell(2, e.aliases.join(", "));
        table.cell(3, e.tags.join(", "));
        table.cell(4, &e.description);
        table.end_row();
    }
    table.print()
}

/// The simulations as a table: name, status, creation time, then a column per flattened
/// parameter key (`mesh.size`), sorted. Rows are formatted as they are read.
fn print_records(index: &Index, key: &str, query: &Query) -> Result<()> {
    let mut table = Table::new(&["name", "status", "created_at"]);
    // The column of each row's n-th parameter: simulations of a collection mostly share keys.
    let mut columns: Vec<usize> = Vec::new();
    index.for_each_row(key, query, |row| {
        table.cell_str(0, row.name());
        match &row.status().message {
            None => table.cell_str(1, row.status().status.as_str()),
            Some(_) => table.cell(1, row.status()),
        }
        if let Some(t) = row.created_at() {
            table.cell_with(2, |text| push_datetime(text, &t));
        }
        for (n, (key, value)) in row.parameters().iter().enumerate() {
            let column = match columns.get(n) {
                Some(&c) if table.names[c] == *key => c,
                _ => {
                    let c = table.column(key);
                    columns.truncate(n);
                    columns.push(c);
                    c
                }
            };
            match value {
                Parameter::Value(AttrValue::Str(v)) => table.cell_str(column, v),
                Parameter::Value(v) => table.cell(column, v),
                Parameter::Array(a) => table.cell(column, a),
                Parameter::Map(_) => {}
            }
        }
        table.end_row();
    })?;
    table.print()
}

/// Appends `t` as `t.format("%Y-%m-%d %H:%M:%S")` does, without parsing a format string for
/// every row.
fn push_datetime(out: &mut String, t: &chrono::NaiveDateTime) {
    let (d, h) = (t.date(), t.time());
    if !(0..=9999).contains(&d.year()) {
        // Writing to a String cannot fail.
        let _ = write!(out, "{}", t.format("%Y-%m-%d %H:%M:%S"));
        return;
    }
    let digits = |out: &mut String, value: u32, width: u32| {
        for place in (0..width).rev() {
            out.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
        }
    };
    digits(out, d.year() as u32, 4);
    for (separator, value) in [
        ('-', d.month()),
        ('-', d.day()),
        (' ', h.hour()),
        (':', h.minute()),
        (':', h.second()),
    ] {
        out.push(separator);
        digits(out, value, 2);
    }
}

/// Writes one table line, each cell padded to its column's width but the last non-empty one.
fn write_line(out: &mut impl Write, widths: &[usize], line: &[&str]) -> std::io::Result<()> {
    let used = line
        .iter()
        .rposition(|c| !c.is_empty())
        .map_or(0, |i| i + 1);
    for (i, (text, width)) in line[..used].iter().zip(widths).enumerate() {
        if i > 0 {
            out.write_all(b"  ")?;
        }
        out.write_all(text.as_bytes())?;
        if i + 1 < used {
            let mut pad = width.saturating_sub(display_width(text));
            while pad > 0 {
                let n = pad.min(SPACES.len());
                out.write_all(&SPACES[..n])?;
                pad -= n;
            }
        }
    }
    out.write_all(b"\n")
}

const SPACES: [u8; 64] = [b' '; 64];

/// The characters of `text` (what a terminal shows for the text bamboost prints).
fn display_width(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    }
}

/// Longest table cell in characters; longer text is cut and ends with `…`.
const CELL_WIDTH: usize = 40;

/// A plain text table built row by row: the fixed columns first, then the others (added as
/// they turn up) sorted by name; columns padded to their widest cell; a header and a rule.
struct Table {
    names: Vec<String>,
    /// Each column's widest cell or name, in characters; kept up to date as cells are added.
    widths: Vec<usize>,
    fixed: usize,
    column_of: HashMap<String, usize>,
    /// The cells' text, one after the other.
    text: String,
    /// Each cell: its row, its column and where its text lies in `text`; rows in order.
    cells: Vec<(usize, usize, Range<usize>)>,
    rows: usize,
}

impl Table {
    fn new(fixed: &[&str]) -> Table {
        Table {
            names: fixed.iter().map(|n| n.to_string()).collect(),
            widths: fixed.iter().map(|n| display_width(n)).collect(),
            fixed: fixed.len(),
            column_of: HashMap::new(),
            text: String::new(),
            cells: Vec::new(),
            rows: 0,
        }
    }

    /// The column called `name` among the non-fixed ones, added if new.
    fn column(&mut self, name: &str) -> usize {
        if let Some(&i) = self.column_of.get(name) {
            return i;
        }
        self.names.push(name.to_owned());
        self.widths.push(display_width(name));
        self.column_of.insert(name.to_owned(), self.names.len() - 1);
        self.names.len() - 1
    }

    /// Sets a cell of the current row to `value` as displayed (cut to [`CELL_WIDTH`]
    /// characters).
    fn cell(&mut self, column: usize, value: impl std::fmt::Display) {
        // Writing to a String cannot fail.
        self.cell_with(column, |text| {
            let _ = write!(text, "{value}");
        });
    }

    /// [`Table::cell`] for text, without the formatting machinery.
    fn cell_str(&mut self, column: usize, value: &str) {
        self.cell_with(column, |text| text.push_str(value));
    }

    /// Sets a cell of the current row to what `write` appends to the table's text (cut to
    /// [`CELL_WIDTH`] characters).
    fn cell_with(&mut self, column: usize, write: impl FnOnce(&mut String)) {
        let start = self.text.len();
        write(&mut self.text);
        // Never more characters than bytes: most cells need no counting.
        if self.text.len() - start > CELL_WIDTH {
            let mut chars = self.text[start..].char_indices();
            if let (Some((keep, _)), Some(_)) = (chars.nth(CELL_WIDTH - 1), chars.next()) {
                self.text.truncate(start + keep);
                self.text.push('…');
            }
        }
        let width = &mut self.widths[column];
        *width = (*width).max(display_width(&self.text[start..]));
        self.cells.push((self.rows, column, start..self.text.len()));
    }

    fn end_row(&mut self) {
        self.rows += 1;
    }

    fn print(&self) -> Result<()> {
        // Display position of each column: the fixed ones, then by name.
        let mut order: Vec<usize> = (0..self.names.len()).collect();
        order[self.fixed..].sort_by(|a, b| self.names[*a].cmp(&self.names[*b]));
        let mut position = vec![0; order.len()];
        for (p, column) in order.iter().enumerate() {
            position[*column] = p;
        }
        let widths: Vec<usize> = order.iter().map(|c| self.widths[*c]).collect();
        let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        let mut line = vec![""; order.len()];
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        let written = (|| {
            let names: Vec<&str> = order.iter().map(|c| self.names[*c].as_str()).collect();
            write_line(&mut out, &widths, &names)?;
            write_line(
                &mut out,
                &widths,
                &rule.iter().map(String::as_str).collect::<Vec<_>>(),
            )?;
            let mut cells = self.cells.iter().peekable();
            for row in 0..self.rows {
                line.fill("");
                while let Some((_, column, range)) = cells.next_if(|(r, _, _)| *r == row) {
                    line[position[*column]] = &self.text[range.clone()];
                }
                write_line(&mut out, &widths, &line)?;
            }
            out.flush()
        })();
        match written {
            // `bamboost list | head` closes the pipe early: not an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => Ok(other?),
        }
    }
}
