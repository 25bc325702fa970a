//! A genomic interval as users write it (`chr:start-end`, or `chr` for a whole chromosome),
//! 1-based and inclusive: `--region`, `--draws-region` and plot's `--region`.

use std::fmt;

use crate::error::UserError;

/// A genomic interval, 1-based and inclusive; a whole chromosome ends at u64::MAX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub chr: String,
    pub start: u64,
    pub end: u64,
}

impl Region {
    /// `chr:start-end` (commas allowed in the numbers), or `chr` alone for the whole
    /// chromosome; `flag` names the option in the message.
    pub fn parse(flag: &str, text: &str) -> Result<Region, UserError> {
        let bad = || {
            UserError(format!(
                "{flag} {text:?}: expected chr:start-end (1-based, inclusive) or a chromosome, e.g. chr18:3014000-3016000 or chr18"
            ))
        };
        let Some((chr, range)) = text.rsplit_once(':') else {
            if text.trim().is_empty() || text.contains(char::is_whitespace) {
                return Err(bad());
            }
            return Ok(Region {
                chr: text.to_string(),
                start: 1,
                end: u64::MAX,
            });
        };
        let (start, end) = range.split_once('-').ok_or_else(bad)?;
        let parse = |v: &str| v.trim().replace(',', "").parse::<u64>().map_err(|_| bad());
        let (start, end) = (parse(start)?, parse(end)?);
        if chr.is_empty() || start == 0 || end < start {
            return Err(bad());
        }
        Ok(Region {
            chr: chr.to_string(),
            start,
            end,
        })
    }

    pub fn contains(&self, chr: &str, pos: u64) -> bool {
        self.chr == chr && (self.start..=self.end).contains(&pos)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == 1 && self.end == u64::MAX {
            write!(f, "{}", self.chr)
        } else {
            write!(f, "{}:{}-{}", self.chr, self.start, self.end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_parse_and_print_back() {
        let r = Region::parse("--region", "chr18:3,014,000-3016000").unwrap();
        assert_eq!(
            (r.chr.as_str(), r.start, r.end),
            ("chr18", 3_014_000, 3_016_000)
        );
        assert_eq!(r.to_string(), "chr18:3014000-3016000");
        let whole = Region::parse("--region", "chrX").unwrap();
        assert!(whole.contains("chrX", 1) && whole.contains("chrX", 1 << 40));
        assert_eq!(whole.to_string(), "chrX");
        for bad in ["chr1:5-4", "chr1:0-4", ":1-2", "chr1:a-b", "", "two words"] {
            let e = Region::parse("--region", bad).unwrap_err();
            assert!(e.0.starts_with("--region"), "{bad}: {}", e.0);
        }
    }
}
