//! What `sample` and `demo` print: the summary table (like CmdStan's stansummary), the
//! posterior predictive checks and the contrasts; and the mixing summary `bench` prints.

use crate::io::write::SummaryRow;
use crate::mcmc::diagnostics::{ess_bulk, rhat};
use crate::mcmc::ppc::Check;

/// `x` with about `sig` significant digits; scientific notation when very large or small.
fn format_sig(x: f64, sig: usize) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&magnitude) {
        return format!("{:.*e}", sig.saturating_sub(1), x);
    }
    let decimals = (sig as i32 - 1 - magnitude).max(0) as usize;
    format!("{x:.decimals$}")
}

/// ESS as a whole number of draws; NaN stays visible.
fn format_ess(x: f64) -> String {
    if x.is_finite() {
        format!("{:.0}", x)
    } else {
        format_sig(x, 1)
    }
}

/// Column headings of the printed summary table.
const TABLE_HEADER: [&str; 10] = [
    "parameter",
    "mean",
    "sd",
    "2.5%",
    "50%",
    "97.5%",
    "mcse_mean",
    "ess_bulk",
    "ess_tail",
    "r_hat",
];

/// Aligned plain-text table like CmdStan's stansummary, one line per parameter.
pub fn format_summary_table(rows: &[SummaryRow]) -> String {
    let mut cells: Vec<Vec<String>> = vec![TABLE_HEADER.iter().map(|h| h.to_string()).collect()];
    for row in rows {
        let s = &row.summary;
        let mut line = vec![row.parameter.clone()];
        line.extend(
            [s.mean, s.sd, s.q2_5, s.median, s.q97_5, s.mcse_mean]
                .iter()
                .map(|&x| format_sig(x, 4)),
        );
        line.push(format_ess(s.ess_bulk));
        line.push(format_ess(s.ess_tail));
        line.push(if s.r_hat.is_finite() {
            format!("{:.3}", s.r_hat)
        } else {
            format_sig(s.r_hat, 1)
        });
        cells.push(line);
    }
    // Widths in chars so non-ASCII parameter names stay aligned.
    let widths: Vec<usize> = (0..TABLE_HEADER.len())
        .map(|c| {
            cells
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in &cells {
        let mut text = String::new();
        for (c, cell) in line.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            if c == 0 {
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            } else {
                text.push_str("  ");
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            }
        }
        out.push_str(&text);
        out.push('\n');
    }
    out
}

/// The posterior predictive checks: each statistic's observed value and p-value.
pub(crate) fn print_checks(checks: &[Check]) {
    println!("\nposterior predictive check   T(y)        p = P(T(y_rep) >= T(y))");
    for c in checks {
        println!(
            "{:<28} {:<11.4} {:.3}",
            c.statistic.name(),
            c.observed,
            c.p_value
        );
    }
}

/// The contrasts' rows: mean, 95% HDI and P(> 0); nothing when there are none.
pub(crate) fn print_contrasts(rows: &[SummaryRow]) {
    let width = rows
        .iter()
        .map(|r| r.parameter.len())
        .max()
        .unwrap_or(0)
        .max("contrast".len());
    if !rows.is_empty() {
        println!(
            "\n{:<width$}  {:>10}  {:>23}  {:>7}",
            "contrast", "mean", "95% HDI", "P(> 0)"
        );
    }
    for row in rows {
        let s = &row.summary;
        let hdi = format!("[{:.4}, {:.4}]", s.hdi_low, s.hdi_high);
        println!(
            "{:<width$}  {:>10.4}  {:>23}  {:>7.3}",
            row.parameter, s.mean, hdi, s.p_positive
        );
    }
}

/// How the watched parameters mixed: the smallest bulk ESS and whose, the ESS of `kappa`, and
/// the largest R-hat.
pub(crate) struct Mixing {
    pub min_ess: f64,
    pub slowest: String,
    pub kappa_ess: f64,
    pub max_r_hat: f64,
}

/// The mixing of each (name, chains) pair.
pub(crate) fn mixing<'a>(params: impl Iterator<Item = (&'a str, Vec<&'a [f64]>)>) -> Mixing {
    let mut m = Mixing {
        min_ess: f64::INFINITY,
        slowest: String::new(),
        kappa_ess: f64::NAN,
        max_r_hat: 0.0,
    };
    for (name, chains) in params {
        let ess = ess_bulk(&chains);
        if name == "kappa" {
            m.kappa_ess = ess;
        }
        if ess < m.min_ess {
            (m.min_ess, m.slowest) = (ess, name.to_string());
        }
        m.max_r_hat = m.max_r_hat.max(rhat(&chains));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::write::test_support::row;

    #[test]
    fn summary_table_is_aligned() {
        let rows = vec![
            row("mu", 0.5),
            row("theta[a very long unit label,17]", 123456789.0),
        ];
        let table = format_summary_table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("parameter"));
        for h in TABLE_HEADER {
            assert!(lines[0].contains(h), "{h}");
        }
        let width = lines[0].chars().count();
        assert!(lines.iter().all(|l| l.chars().count() == width), "{table}");
        assert!(
            lines[1].contains("0.5000") && lines[1].contains("1234") && lines[1].contains("1.001"),
            "{table}"
        );
        assert!(
            lines[2].contains("1.235e8") && lines[2].contains("NaN"),
            "{table}"
        );
        assert_eq!(format_sig(0.00001234, 3), "1.23e-5");
        assert_eq!(format_sig(0.0001234, 3), "0.000123");
        assert_eq!(format_sig(-2.5, 3), "-2.50");
    }
}
