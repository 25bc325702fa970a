//! Any Parquet file read back whole: every column as text or as numbers, for assertions.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use arrow::array::{Array, Float64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// A Parquet file's rows: strings (dictionary-encoded too) as text, every numeric column as
/// f64 (integers exact below 2^53, nulls as NaN).
#[derive(Debug)]
pub struct Table {
    pub rows: usize,
    pub text: HashMap<String, Vec<String>>,
    pub numbers: HashMap<String, Vec<f64>>,
    /// The footer's key-value metadata.
    pub metadata: HashMap<String, String>,
}

impl Table {
    pub fn read(path: &Path) -> Table {
        let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let metadata = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .into_iter()
            .flatten()
            .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
            .collect();
        let reader = builder
            .build()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut table = Table {
            rows: 0,
            text: HashMap::new(),
            numbers: HashMap::new(),
            metadata,
        };
        for batch in reader {
            let batch = batch.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            table.rows += batch.num_rows();
            for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                let name = field.name().clone();
                let is_text = match column.data_type() {
                    DataType::Utf8 | DataType::LargeUtf8 => true,
                    DataType::Dictionary(_, value) => {
                        matches!(**value, DataType::Utf8 | DataType::LargeUtf8)
                    }
                    _ => false,
                };
                if is_text {
                    let strings = cast(column, &DataType::Utf8).unwrap();
                    let strings = strings.as_any().downcast_ref::<StringArray>().unwrap();
                    let values = (0..strings.len()).map(|i| strings.value(i).to_string());
                    table.text.entry(name).or_default().extend(values);
                } else {
                    let numbers = cast(column, &DataType::Float64)
                        .unwrap_or_else(|e| panic!("{}: column {name}: {e}", path.display()));
                    let numbers = numbers.as_any().downcast_ref::<Float64Array>().unwrap();
                    let values = (0..numbers.len()).map(|i| {
                        if numbers.is_null(i) {
                            f64::NAN
                        } else {
                            numbers.value(i)
                        }
                    });
                    table.numbers.entry(name).or_default().extend(values);
                }
            }
        }
        table
    }

    /// A text column by name.
    pub fn text(&self, column: &str) -> &[String] {
        self.text
            .get(column)
            .unwrap_or_else(|| panic!("no text column {column:?}"))
    }

    /// A numeric column by name.
    pub fn numbers(&self, column: &str) -> &[f64] {
        self.numbers
            .get(column)
            .unwrap_or_else(|| panic!("no numeric column {column:?}"))
    }
}
