//! `bamboost`: find collections and simulations from the shell, through the index.
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
use clap::{Args, CommandFactory, Parser, Subcommand};
use serde_json::{Value, json};
use std::io::{IsTerminal, Write};
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A command-line tool is one process: never MPI, even in a build with the `mpi` feature.
    let _ = bamboost::mpi::set_enabled(false);
    // Warnings (locked files skipped, rejected configuration values) go to stderr, plainly.
    tracing_subscriber_init();
    match run(cli.command) {
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

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn run(command: Command) -> Result<()> {
    match command {
        Command::List(args) => list(args),
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

fn list(args: ListArgs) -> Result<()> {
    let index = open_index(args.sync)?;
    let Some(key) = &args.collection else {
        return print_collections(&index.collections()?, args.json);
    };
    if args.sync {
        let report = index.sync(key, false)?;
        report_skipped(&report);
    }
    if let Some(name) = &args.simulation {
        return show_simulation(&index, key, name, args.json);
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
    let records = index.query(key, &query)?;
    if args.json {
        return print_json(&Value::Array(records.iter().map(record_json).collect()));
    }
    print_records(&records)
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

fn show_simulation(index: &Index, key: &str, name: &str, as_json: bool) -> Result<()> {
    let record = index.simulation(key, name)?;
    let collection = index.open_collection(key)?;
    let sim = collection.simulation(name)?;
    let metadata = sim.metadata()?;
    let series = sim.data()?;
    let steps = series.len()?;
    let fields = series.field_names()?;
    let globals = series.global_names()?;
    if as_json {
        let mut value = record_json(&record);
        value["uid"] = json!(sim.uid());
        value["path"] = json!(sim.path());
        value["metadata"] = Parameters::from_iter(
            metadata
                .iter()
                .map(|(k, v)| (k.clone(), Parameter::Value(v.clone()))),
        )
        .to_json();
        value["series"] =
            json!({"path": series.path(), "steps": steps, "fields": fields, "globals": globals});
        return print_json(&value);
    }
    let mut out = String::new();
    out.push_str(&format!("{}  ({})\n", sim.uid(), sim.path().display()));
    out.push_str("metadata:\n");
    for (k, v) in &metadata {
        out.push_str(&format!("  {k:<16} {}\n", cell(v)));
    }
    out.push_str("parameters:\n");
    for (k, v) in record.parameters.flatten() {
        out.push_str(&format!("  {k:<16} {}\n", parameter_cell(&v)));
    }
    if !record.links.is_empty() {
        out.push_str("links:\n");
        for (k, v) in &record.links {
            out.push_str(&format!("  {k:<16} {v}\n"));
        }
    }
    out.push_str(&format!(
        "series `{}`: {steps} step(s); fields: {}; globals: {}\n",
        series.path(),
        list_or_none(&fields),
        list_or_none(&globals)
    ));
    write_out(&out)
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
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

fn record_json(record: &SimulationRecord) -> Value {
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

fn print_json(value: &Value) -> Result<()> {
    write_out(&format!("{}\n", serde_json::to_string_pretty(value)?))
}

/// Writes to stdout; a closed pipe (`bamboost list | head`) is not an error.
fn write_out(text: &str) -> Result<()> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn print_collections(entries: &[CollectionEntry], as_json: bool) -> Result<()> {
    if as_json {
        return print_json(&Value::Array(entries.iter().map(collection_json).collect()));
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.uid.clone(),
                e.path.display().to_string(),
                e.aliases.join(", "),
                e.tags.join(", "),
                e.description.clone(),
            ]
        })
        .collect();
    write_out(&table(
        &["uid", "path", "aliases", "tags", "description"],
        &rows,
    ))
}

fn print_records(records: &[SimulationRecord]) -> Result<()> {
    let flat: Vec<_> = records.iter().map(|r| r.parameters.flatten()).collect();
    let mut keys: Vec<&String> = flat.iter().flat_map(|f| f.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut header = vec!["name", "status", "created_at"];
    header.extend(keys.iter().map(|k| k.as_str()));
    let rows: Vec<Vec<String>> = records
        .iter()
        .zip(&flat)
        .map(|(r, f)| {
            let mut row = vec![
                r.name.clone(),
                r.status.to_string(),
                r.created_at
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default(),
            ];
            row.extend(
                keys.iter()
                    .map(|k| f.get(*k).map(parameter_cell).unwrap_or_default()),
            );
            row
        })
        .collect();
    write_out(&table(&header, &rows))
}

fn parameter_cell(parameter: &Parameter) -> String {
    match parameter {
        Parameter::Value(v) => cell(v),
        Parameter::Array(a) => cell(&AttrValue::Array(a.clone())),
        Parameter::Map(_) => String::new(),
    }
}

fn cell(value: &AttrValue) -> String {
    let text = match value {
        AttrValue::None => "None".into(),
        AttrValue::Str(s) => s.clone(),
        AttrValue::DateTime(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        other => Parameters::new().with("v", other.clone()).to_json()["v"].to_string(),
    };
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(39).collect::<String>())
    } else {
        text
    }
}

/// A plain text table with a header line.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(header.to_vec());
    out.push_str(&line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    ));
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}
