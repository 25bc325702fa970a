//! Reading betagibbs's own Parquet outputs back (draws/1 and the small tables), for
//! `plot` on a run made earlier. Every reader checks the footer's schema tag first, so a
//! file from another tool or a later format is refused by name rather than misread.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use arrow::array::{Array, Float64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::output::{DRAWS_SCHEMA, SCHEMA_KEY};

/// Draws in a `Fit`'s layout: `values[(param * n_chains + chain) * n_draws + draw]`.
#[derive(Debug, Clone)]
pub struct Draws {
    pub names: Vec<String>,
    pub n_chains: usize,
    pub n_draws: usize,
    pub values: Vec<f64>,
    /// The footer's key-value metadata.
    pub metadata: HashMap<String, String>,
}

impl Draws {
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
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
            .ok_or_else(|| anyhow::anyhow!("{}: no text column {column:?}", path.display()))
    }

    pub fn numbers(&self, path: &Path, column: &str) -> anyhow::Result<&[f64]> {
        self.numbers
            .get(column)
            .map(Vec::as_slice)
            .ok_or_else(|| anyhow::anyhow!("{}: no numeric column {column:?}", path.display()))
    }
}

/// Reads a whole Parquet file written by betagibbs, checking its schema tag is `expected`.
pub fn read_table(path: &Path, expected: &str) -> anyhow::Result<Table> {
    let file = File::open(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| anyhow::anyhow!("{}: not a readable Parquet file: {e}", path.display()))?;
    let mut table = Table::default();
    if let Some(kv) = builder.metadata().file_metadata().key_value_metadata() {
        for entry in kv {
            table
                .metadata
                .insert(entry.key.clone(), entry.value.clone().unwrap_or_default());
        }
    }
    match table.metadata.get(SCHEMA_KEY) {
        Some(v) if v == expected => {}
        found => anyhow::bail!(
            "{}: expected a betagibbs {expected} file, found schema {:?}",
            path.display(),
            found.map_or("(none)", String::as_str)
        ),
    }
    let schema = builder.schema().clone();
    let reader = builder
        .build()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    for batch in reader {
        let batch = batch.map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            let name = field.name().clone();
            match field.data_type() {
                DataType::Utf8 | DataType::Dictionary(_, _) | DataType::LargeUtf8 => {
                    let text = cast(column, &DataType::Utf8)?;
                    let text = text.as_any().downcast_ref::<StringArray>().expect("Utf8");
                    table
                        .text
                        .entry(name)
                        .or_default()
                        .extend(text.iter().map(|v| v.unwrap_or_default().to_string()));
                }
                _ => {
                    let numbers = cast(column, &DataType::Float64)
                        .map_err(|e| anyhow::anyhow!("{}: column {name:?}: {e}", path.display()))?;
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
    let expected = names.len() * n_chains * n_draws;
    if value.len() != expected {
        anyhow::bail!(
            "{}: {} rows, but {} parameters x {n_chains} chains x {n_draws} draws need {expected}",
            path.display(),
            value.len(),
            names.len()
        );
    }
    let mut values = vec![f64::NAN; expected];
    let mut seen = vec![false; expected];
    for r in 0..value.len() {
        let (c, d) = (chain[r] as usize, draw[r] as usize);
        if c == 0 || d == 0 {
            anyhow::bail!("{}: row {r}: chain and draw count from 1", path.display());
        }
        let at = (index[parameter[r].as_str()] * n_chains + c - 1) * n_draws + d - 1;
        if std::mem::replace(&mut seen[at], true) {
            anyhow::bail!(
                "{}: row {r}: {} chain {c} draw {d} appears twice",
                path.display(),
                parameter[r]
            );
        }
        values[at] = value[r];
    }
    Ok(Draws {
        names,
        n_chains,
        n_draws,
        values,
        metadata: table.metadata.clone(),
    })
}
