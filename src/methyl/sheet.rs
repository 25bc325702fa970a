//! The sample sheet: CSV or TSV with columns `sample`, `file`, `group` and optionally
//! `format` (else detected per file) and any covariates, which `--design` may name. Relative
//! paths are relative to the sheet's directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::UserError;
use crate::mcmc::design::Table;
use crate::methyl::formats::Format;

#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub file: PathBuf,
    pub group: String,
    pub format: Option<Format>,
    /// Line of the sheet, for messages.
    pub line: usize,
    /// Every field of its line, in the header's order: the covariates of a design.
    pub fields: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SampleSheet {
    pub path: PathBuf,
    pub samples: Vec<Sample>,
    /// The header's column names.
    pub columns: Vec<String>,
}

impl SampleSheet {
    pub fn read(path: &Path) -> Result<SampleSheet, UserError> {
        let source = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| UserError(format!("{source}: cannot read the sample sheet: {e}")))?;
        // Excel's "CSV UTF-8" starts with a byte-order mark.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
            .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
        let (header_line, header) = lines
            .next()
            .ok_or_else(|| UserError(format!("{source}: the sample sheet is empty")))?;
        let delimiter = if header.contains('\t') { '\t' } else { ',' };
        let names: Vec<&str> = header.split(delimiter).map(str::trim).collect();
        let column = |want: &str| names.iter().position(|n| *n == want);
        let required = |want: &str| {
            column(want).ok_or_else(|| {
                UserError(format!(
                    "{source}:{header_line}: column '{want}' not found; the sample sheet needs sample, file and group (and optionally format)"
                ))
            })
        };
        let (c_sample, c_file, c_group) =
            (required("sample")?, required("file")?, required("group")?);
        let c_format = column("format");
        let base = path.parent().unwrap_or(Path::new("."));
        let mut samples: Vec<Sample> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (line, text) in lines {
            let fields: Vec<&str> = text.split(delimiter).map(str::trim).collect();
            if fields.len() != names.len() {
                return Err(UserError(format!(
                    "{source}:{line}: {} fields but the header has {}",
                    fields.len(),
                    names.len()
                )));
            }
            let at = |c: usize, what: &str| -> Result<String, UserError> {
                match fields[c] {
                    "" => Err(UserError(format!(
                        "{source}:{line}:{}: column '{}': {what} is empty",
                        c + 1,
                        names[c]
                    ))),
                    v => Ok(v.to_string()),
                }
            };
            let name = at(c_sample, "sample name")?;
            if let Some(first) = seen.insert(name.clone(), line) {
                return Err(UserError(format!(
                    "{source}:{line}:{}: sample {name:?} appears twice (first on line {first})",
                    c_sample + 1
                )));
            }
            let file = base.join(at(c_file, "file")?);
            if !file.is_file() {
                return Err(UserError(format!(
                    "{source}:{line}:{}: sample {name:?}: file {} not found",
                    c_file + 1,
                    file.display()
                )));
            }
            let format = match c_format.map(|c| fields[c]) {
                None | Some("") => None,
                Some(f) => Some(Format::parse(f).map_err(|e| {
                    UserError(format!(
                        "{source}:{line}:{}: {e}",
                        c_format.unwrap_or(0) + 1
                    ))
                })?),
            };
            samples.push(Sample {
                group: at(c_group, "group")?,
                name,
                file,
                format,
                line,
                fields: fields.iter().map(|f| f.to_string()).collect(),
            });
        }
        if samples.is_empty() {
            return Err(UserError(format!(
                "{source}: the sample sheet lists no samples"
            )));
        }
        Ok(SampleSheet {
            path: path.to_path_buf(),
            samples,
            columns: names.iter().map(|n| n.to_string()).collect(),
        })
    }

    /// The sheet's cells as a design reads them, with their lines for messages.
    pub fn table(&self) -> Table {
        Table {
            source: self.path.display().to_string(),
            names: self.columns.clone(),
            rows: self.samples.iter().map(|s| s.fields.clone()).collect(),
            lines: self.samples.iter().map(|s| s.line).collect(),
            columns: (1..=self.columns.len()).collect(),
        }
    }

    /// The groups in order of first appearance, and each sample's group index.
    pub fn groups(&self) -> (Vec<String>, Vec<u32>) {
        let mut names: Vec<String> = Vec::new();
        let of = self
            .samples
            .iter()
            .map(|s| match names.iter().position(|g| *g == s.group) {
                Some(g) => g as u32,
                None => {
                    names.push(s.group.clone());
                    names.len() as u32 - 1
                }
            })
            .collect();
        (names, of)
    }

    /// Index of a group named on the command line; an error lists the sheet's groups.
    pub fn group_index(&self, name: &str) -> Result<usize, UserError> {
        let (names, _) = self.groups();
        names.iter().position(|g| g == name).ok_or_else(|| {
            UserError(format!(
                "{}: no sample is in group {name:?}; the sheet's groups are {}",
                self.path.display(),
                names.join(", ")
            ))
        })
    }
}
