//! Filtering and sorting the simulations of a collection, evaluated in memory on the records
//! rank 0 reads (the index adds SQL push-down later).

use crate::h5::AttrValue;
use crate::simulation::{Comparable, Parameter, Parameters, StatusInfo};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// What a collection knows of one simulation: its name, metadata, parameters and links (one
/// row of Python bamboost's DataFrame).
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationRecord {
    /// The simulation name.
    pub name: String,
    /// The status.
    pub status: StatusInfo,
    /// The description (`""` if none).
    pub description: String,
    /// The tags, sorted.
    pub tags: Vec<String>,
    /// The creation time, if stored.
    pub created_at: Option<chrono::NaiveDateTime>,
    /// The parameters.
    pub parameters: Parameters,
    /// The links: name → `<COLLECTION_UID>:<name>`.
    pub links: BTreeMap<String, String>,
}

impl SimulationRecord {
    /// The value of column `key`: `name`, `status`, `description`, `created_at`, `tags`,
    /// `links.<name>`, or a (dotted) parameter.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn get(&self, key: &str) -> Option<AttrValue> {
        match key {
            "name" => Some(AttrValue::Str(self.name.clone())),
            "status" => Some(AttrValue::Str(self.status.status.as_str().to_owned())),
            "description" => Some(AttrValue::Str(self.description.clone())),
            "created_at" => self.created_at.map(AttrValue::DateTime),
            "tags" => Some(AttrValue::from(self.tags.clone())),
            _ => match key.strip_prefix("links.") {
                Some(link) if self.links.contains_key(link) => {
                    self.links.get(link).cloned().map(AttrValue::Str)
                }
                _ => match self.parameters.get(key)? {
                    Parameter::Value(value) => Some(value.clone()),
                    Parameter::Array(array) => Some(AttrValue::Array(array.clone())),
                    Parameter::Map(_) => None,
                },
            },
        }
    }

    /// The flattened parameters and `links.<name>` columns, `None` values left out: the
    /// columns the duplicate check compares.
    pub(crate) fn comparable_columns(
        parameters: &Parameters,
        links: &BTreeMap<String, String>,
    ) -> BTreeMap<String, Comparable> {
        let mut columns: BTreeMap<String, Comparable> = parameters
            .flatten()
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), Comparable::of(v)?)))
            .collect();
        for (name, target) in links {
            columns.insert(format!("links.{name}"), Comparable::Text(target.clone()));
        }
        columns
    }
}

/// A comparison of [`Filter::Compare`].
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `==`
    Eq,
    /// `!=` (true for a missing value, as pandas' `NaN != x`)
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A condition on simulations, for [`crate::collection::Collection::filter`].
///
/// Keys are those of [`SimulationRecord::get`]. Numbers compare by value whatever their type,
/// strings and datetimes by order, arrays element-wise with their shape (`==`/`!=` only; `<`
/// and the others are false for arrays). A value is *missing* when the key is absent, `None`
/// or NaN: a comparison with a missing value is false, except `!=`, which is true;
/// `eq(key, None)` selects the simulations where `key` is missing and `ne(key, None)` those
/// where it is present. A string never equals a number. The same rules hold in memory
/// ([`Filter::matches`]) and in the index's SQL ([`crate::index::Index::query`]).
///
/// ```
/// use bamboost::collection::Filter;
///
/// let f = Filter::eq("age", 20).or(Filter::eq("age", 40)).and(Filter::tags(["fast"]));
/// # let _ = f;
/// ```
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `key <op> value`.
    Compare {
        /// The column.
        key: String,
        /// The comparison.
        op: CompareOp,
        /// The value compared with.
        value: AttrValue,
    },
    /// The simulation carries all these tags.
    Tags(Vec<String>),
    /// All hold.
    And(Vec<Filter>),
    /// One holds.
    Or(Vec<Filter>),
    /// Does not hold.
    Not(Box<Filter>),
}

macro_rules! comparisons {
    ($($(#[$doc:meta])* $name:ident => $op:ident),* $(,)?) => {$(
        $(#[$doc])*
        ///
        /// # MPI
        ///
        /// Local.
        pub fn $name(key: &str, value: impl Into<AttrValue>) -> Filter {
            Filter::Compare { key: key.to_owned(), op: CompareOp::$op, value: value.into() }
        }
    )*};
}

impl Filter {
    comparisons! {
        /// `key == value`.
        eq => Eq,
        /// `key != value`.
        ne => Ne,
        /// `key < value`.
        lt => Lt,
        /// `key <= value`.
        le => Le,
        /// `key > value`.
        gt => Gt,
        /// `key >= value`.
        ge => Ge,
    }

    /// The simulation carries every tag of `tags`.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn tags<S: Into<String>>(tags: impl IntoIterator<Item = S>) -> Filter {
        Filter::Tags(tags.into_iter().map(Into::into).collect())
    }

    /// Both `self` and `other`.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn and(self, other: Filter) -> Filter {
        Filter::And(vec![self, other])
    }

    /// `self` or `other`.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn or(self, other: Filter) -> Filter {
        Filter::Or(vec![self, other])
    }

    /// Not `self`.
    ///
    /// # MPI
    ///
    /// Local.
    #[allow(clippy::should_implement_trait)] // A builder like `and`/`or`, not the `!` operator.
    pub fn not(self) -> Filter {
        Filter::Not(Box::new(self))
    }

    /// Whether `record` satisfies the condition.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn matches(&self, record: &SimulationRecord) -> bool {
        match self {
            Filter::Compare { key, op, value } => {
                let missing = |v: &AttrValue| match v {
                    AttrValue::None => true,
                    AttrValue::Float(f) => f.is_nan(),
                    _ => false,
                };
                let found = record.get(key).filter(|v| !missing(v));
                if matches!(value, AttrValue::None) {
                    return match op {
                        CompareOp::Eq => found.is_none(),
                        CompareOp::Ne => found.is_some(),
                        _ => false,
                    };
                }
                let Some(found) = found else {
                    return *op == CompareOp::Ne;
                };
                // Tags are a set (held sorted): compare them in any order.
                let sorted_tags;
                let value = match (key.as_str(), value) {
                    ("tags", AttrValue::Array(array)) => {
                        let mut tags: Vec<String> = match &array.data {
                            crate::h5::ArrayData::Str(tags) => tags.clone(),
                            _ => Vec::new(),
                        };
                        tags.sort();
                        tags.dedup();
                        sorted_tags = AttrValue::from(tags);
                        &sorted_tags
                    }
                    _ => value,
                };
                let ordering = compare(&found, value);
                match op {
                    CompareOp::Eq => ordering == Some(Ordering::Equal),
                    CompareOp::Ne => ordering != Some(Ordering::Equal),
                    CompareOp::Lt => ordering == Some(Ordering::Less),
                    CompareOp::Le => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
                    CompareOp::Gt => ordering == Some(Ordering::Greater),
                    CompareOp::Ge => {
                        matches!(ordering, Some(Ordering::Greater | Ordering::Equal))
                    }
                }
            }
            Filter::Tags(tags) => tags.iter().all(|t| record.tags.contains(t)),
            Filter::And(all) => all.iter().all(|f| f.matches(record)),
            Filter::Or(any) => any.iter().any(|f| f.matches(record)),
            Filter::Not(inner) => !inner.matches(record),
        }
    }
}

/// The order of two values: numbers (and bools) by value, strings and datetimes by order,
/// anything else only equal or not.
pub(crate) fn compare(a: &AttrValue, b: &AttrValue) -> Option<Ordering> {
    let number = |v: &AttrValue| match v {
        AttrValue::Bool(b) => Some(f64::from(u8::from(*b))),
        AttrValue::Int(i) => Some(*i as f64),
        AttrValue::Float(f) => Some(*f),
        _ => None,
    };
    match (a, b) {
        (AttrValue::Str(x), AttrValue::Str(y)) => Some(x.cmp(y)),
        (AttrValue::DateTime(x), AttrValue::DateTime(y)) => Some(x.cmp(y)),
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => {
                let wrap = |v: &AttrValue| Comparable::of(&Parameter::Value(v.clone()));
                (wrap(a) == wrap(b)).then_some(Ordering::Equal)
            }
        },
    }
}

/// Sorts `records` by `keys` (the first is the primary key), missing values last.
pub(crate) fn sort(records: &mut [SimulationRecord], keys: &[(String, bool)]) {
    records.sort_by(|a, b| {
        for (key, ascending) in keys {
            let ordering = match (a.get(key), b.get(key)) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(x), Some(y)) => {
                    let o = compare(&x, &y).unwrap_or(Ordering::Equal);
                    if *ascending { o } else { o.reverse() }
                }
            };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulation::Status;

    fn record(name: &str, age: i64, first: &str, tags: &[&str]) -> SimulationRecord {
        SimulationRecord {
            name: name.into(),
            status: StatusInfo::new(Status::Initialized),
            description: String::new(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            created_at: None,
            parameters: Parameters::new().with("age", age).with("first_name", first),
            links: BTreeMap::new(),
        }
    }

    #[test]
    fn filters_combine_and_treat_missing_values_as_false() {
        let r = record("s1", 20, "Jack", &["a", "b"]);
        assert!(Filter::eq("age", 20).or(Filter::eq("age", 40)).matches(&r));
        assert!(
            Filter::eq("age", 20.0)
                .and(Filter::eq("first_name", "Jack"))
                .matches(&r)
        );
        assert!(!Filter::gt("age", 20).matches(&r));
        assert!(Filter::ge("age", 20).matches(&r));
        assert!(!Filter::eq("missing", 1).matches(&r));
        assert!(Filter::ne("missing", 1).matches(&r));
        assert!(Filter::tags(["a"]).matches(&r));
        assert!(!Filter::tags(["a", "c"]).matches(&r));
        assert!(Filter::tags(["c"]).not().matches(&r));
        assert!(Filter::eq("name", "s1").matches(&r));
    }

    #[test]
    fn multi_key_sort_puts_missing_values_last() {
        let mut records = vec![
            record("a", 30, "Z", &[]),
            record("b", 20, "Y", &[]),
            record("c", 30, "X", &[]),
        ];
        let mut missing = record("d", 0, "W", &[]);
        missing.parameters = Parameters::new();
        records.push(missing);
        sort(
            &mut records,
            &[("age".into(), true), ("first_name".into(), false)],
        );
        let names: Vec<&str> = records.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["b", "a", "c", "d"]);
        sort(&mut records, &[("age".into(), false)]);
        let names: Vec<&str> = records.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a", "c", "b", "d"]);
    }
}
