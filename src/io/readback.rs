//! Reading betagibbs's own Parquet outputs back (draws/1 and the small tables), for
//! `plot` on a run made earlier. Every reader checks the footer's schema tag first, so a
//! file from another tool or a later format is refused by name rather than misread.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use arrow::array::{Array, Float64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;

use crate::error::UserError;
use crate::io::parquet_file::open_parquet;
use crate::io::write::{DRAWS_SCHEMA, SCHEMA_KEY};

/// A file the user pointed at that is missing, not ours or damaged: a user error (exit 2).
fn refuse(message: String) -> anyhow::Error {
    UserError(message).into()
}

/// Draws in a `Fit`'s layout: `values[(param * n_chains + chain) * n_draws + draw]`.
#[derive(Debug, Clone)]
pub struct Draws {
    pub names: Vec<String>,
    pub n_chains: usize,
    pub n_draws: usize,
    pub values: Vec<f64>,
    /// The footer's key-value metadata.
    pub metadata: HashMap<String, String>,
    /// Parameter index by name.
    by_name: HashMap<String, usize>,
}

impl Draws {
    pub fn index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    pub fn chain(&self, param: usize, chain: usize) -> &[f64] {
        let start = (param * self.n_chains + chain) * self.n_draws;
        &self.values[start..start + self.n_draws]
    }

    /// Every chain of `param`, each as its own vector.
    pub fn chains(&self, param: usize) -> Vec<Vec<f64>> {
        (0..self.n_chains)
            .map(|c| self.chain(param, c).to_vec())
            .collect()
    }

    /// All draws of `param` pooled over chains.
    pub fn pooled(&self, param: usize) -> Vec<f64> {
        let per = self.n_chains * self.n_draws;
        self.values[param * per..(param + 1) * per].to_vec()
    }
}

/// A small table read back: its columns by name, text or numbers (integers as f64, nulls as NaN).
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub text: HashMap<String, Vec<String>>,
    pub numbers: HashMap<String, Vec<f64>>,
    pub metadata: HashMap<String, String>,
}

impl Table {
    pub fn text(&self, path: &Path, column: &str) -> anyhow::Result<&[String]> {
        self.text
            .get(column)
            .map(Vec::as_slice)
            .ok_or_else(|| refuse(format!("{}: no text column {column:?}", path.display())))
    }

    pub fn numbers(&self, path: &Path, column: &str) -> anyhow::Result<&[f64]> {
        self.numbers
            .get(column)
            .map(Vec::as_slice)
            .ok_or_else(|| refuse(format!("{}: no numeric column {column:?}", path.display())))
    }
}

/// The footer of a Parquet file written by betagibbs, its schema tag checked to be `expected`;
/// no rows are read.
pub fn read_footer(path: &Path, expected: &str) -> anyhow::Result<HashMap<String, String>> {
    Ok(open_checked(path, expected)?.1)
}

fn open_checked(
    path: &Path,
    expected: &str,
) -> anyhow::Result<(
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder<File>,
    HashMap<String, String>,
)> {
    let file = File::open(path).map_err(|e| refuse(format!("{}: {e}", path.display())))?;
    let builder = open_parquet(file, &path.display().to_string())?;
    let mut metadata = HashMap::new();
    if let Some(kv) = builder.metadata().file_metadata().key_value_metadata() {
        for entry in kv {
            metadata.insert(entry.key.clone(), entry.value.clone().unwrap_or_default());
        }
    }
    match metadata.get(SCHEMA_KEY) {
        Some(v) if v == expected => Ok((builder, metadata)),
        found => Err(refuse(format!(
            "{}: expected a betagibbs {expected} file, found schema {:?}",
            path.display(),
            found.map_or("(none)", String::as_str)
        ))),
    }
}

/// Reads a whole Parquet file written by betagibbs, checking its schema tag is `expected`.
pub fn read_table(path: &Path, expected: &str) -> anyhow::Result<Table> {
    let (builder, metadata) = open_checked(path, expected)?;
    let mut table = Table {
        metadata,
        ..Table::default()
    };
    let schema = builder.schema().clone();
    // Every column, even of a table without rows.
    for field in schema.fields() {
        match field.data_type() {
            DataType::Utf8 | DataType::Dictionary(_, _) | DataType::LargeUtf8 => {
                table.text.insert(field.name().clone(), Vec::new());
            }
            _ => {
                table.numbers.insert(field.name().clone(), Vec::new());
            }
        }
    }
    let reader = builder
        .build()
        .map_err(|e| refuse(format!("{}: {e}", path.display())))?;
    for batch in reader {
        let batch = batch.map_err(|e| refuse(format!("{}: damaged: {e}", path.display())))?;
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            let name = field.name().clone();
            match field.data_type() {
                DataType::Utf8 | DataType::Dictionary(_, _) | DataType::LargeUtf8 => {
                    let text = cast(column, &DataType::Utf8)
                        .map_err(|e| refuse(format!("{}: column {name:?}: {e}", path.display())))?;
                    let text = text.as_any().downcast_ref::<StringArray>().expect("Utf8");
                    table
                        .text
                        .entry(name)
                        .or_default()
                        .extend(text.iter().map(|v| v.unwrap_or_default().to_string()));
                }
                _ => {
                    let numbers = cast(column, &DataType::Float64)
                        .map_err(|e| refuse(format!("{}: column {name:?}: {e}", path.display())))?;
                    let numbers = numbers
                        .as_any()
                        .downcast_ref::<Float64Array>()
                        .expect("Float64");
                    table
                        .numbers
                        .entry(name)
                        .or_default()
                        .extend(numbers.iter().map(|v| v.unwrap_or(f64::NAN)));
                }
            }
        }
    }
    Ok(table)
}

/// Reads draws.parquet (draws/1) back into a `Draws`, checking every (parameter, chain,
/// draw) is present exactly once.
pub fn read_draws(path: &Path) -> anyhow::Result<Draws> {
    let table = read_table(path, DRAWS_SCHEMA)?;
    let parameter = table.text(path, "parameter")?;
    let chain = table.numbers(path, "chain")?;
    let draw = table.numbers(path, "draw")?;
    let value = table.numbers(path, "value")?;
    let mut names: Vec<String> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for p in parameter {
        if !index.contains_key(p.as_str()) {
            index.insert(p, names.len());
            names.push(p.clone());
        }
    }
    let n_chains = chain.iter().fold(0.0f64, |a, &b| a.max(b)) as usize;
    let n_draws = draw.iter().fold(0.0f64, |a, &b| a.max(b)) as usize;
    let expected = names
        .len()
        .checked_mul(n_chains)
        .and_then(|x| x.checked_mul(n_draws));
    if expected != Some(value.len()) {
        return Err(refuse(format!(
            "{}: {} rows, but {} parameters x {n_chains} chains x {n_draws} draws",
            path.display(),
            value.len(),
            names.len()
        )));
    }
    let expected = value.len();
    let mut values = vec![f64::NAN; expected];
    let mut seen = vec![false; expected];
    for r in 0..value.len() {
        let (c, d) = (chain[r] as usize, draw[r] as usize);
        if c == 0 || d == 0 {
            return Err(refuse(format!(
                "{}: row {r}: chain and draw count from 1",
                path.display()
            )));
        }
        let at = (index[parameter[r].as_str()] * n_chains + c - 1) * n_draws + d - 1;
        if std::mem::replace(&mut seen[at], true) {
            return Err(refuse(format!(
                "{}: row {r}: {} chain {c} draw {d} appears twice",
                path.display(),
                parameter[r]
            )));
        }
        values[at] = value[r];
    }
    Ok(Draws {
        n_chains,
        n_draws,
        values,
        metadata: table.metadata.clone(),
        by_name: names.iter().cloned().zip(0..).collect(),
        names,
    })
}
