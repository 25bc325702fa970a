//! One cell's value checked: counts parsed exactly and y <= n with n >= 1, labels non-empty;
//! each problem a one-line message naming the file, the place in it and the column.

use super::columns::{Col, Layout};
use super::rows::Loc;
use crate::error::UserError;
use crate::kernels::layout::MAX_TRIALS;

pub(super) const COUNT_RULE: &str = "counts must be whole numbers >= 0";
pub(super) const TOO_LARGE: &str = "is too large (the maximum is 4294967295)";

/// `file:line:col: column 'name': msg` (delimited) or `file: row r, column c 'name': msg` (Parquet).
pub(super) fn cell_error(
    source: &str,
    loc: Loc,
    col: &Col,
    msg: impl std::fmt::Display,
) -> UserError {
    let message = match loc {
        Loc::Line(l) => format!("{source}:{l}:{}: column '{}': {msg}", col.number, col.name),
        Loc::Row(r) => format!(
            "{source}: row {r}, column {} '{}': {msg}",
            col.number, col.name
        ),
    };
    // One line, whatever a quoted cell held: control characters are shown escaped.
    UserError(
        message
            .chars()
            .map(|c| match c {
                c if c.is_control() => c.escape_debug().to_string(),
                c => c.to_string(),
            })
            .collect(),
    )
}

/// Parses a count exactly: digits with an optional fraction and exponent, whole and in u32 range.
/// Decimal arithmetic on the text (not f64) so "3.0000000000000001" is rejected, not rounded.
pub(super) fn parse_count(text: &str) -> Result<u32, &'static str> {
    if text.is_empty() {
        return Err("is empty");
    }
    let (negative, body) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    match body.to_ascii_lowercase().as_str() {
        "nan" => return Err("is NaN"),
        "inf" | "infinity" => return Err("is infinite"),
        _ => {}
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !all_digits(int_part)
        || !all_digits(frac_part)
    {
        return Err("is not a number");
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !all_digits(digits) {
                return Err("is not a number");
            }
            // Absurd exponents saturate; they are "too large" or "not whole" either way.
            e.parse().unwrap_or(if e.starts_with('-') {
                -(1 << 40)
            } else {
                1 << 40
            })
        }
    };
    let all = format!("{int_part}{frac_part}");
    let digits = all.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(0); // "0", "-0", "0.00e5": zero whatever the sign
    }
    if negative {
        return Err("is negative");
    }
    // value = digits * 10^shift
    let shift = exponent - frac_part.len() as i64;
    let whole: String = if shift < 0 {
        let drop = usize::try_from(-shift).unwrap_or(usize::MAX);
        if drop >= digits.len() {
            return Err("is not a whole number"); // nonzero and below 1
        }
        let (head, tail) = digits.split_at(digits.len() - drop);
        if tail.bytes().any(|b| b != b'0') {
            return Err("is not a whole number");
        }
        head.to_string()
    } else {
        if digits.len() as i64 + shift > 10 {
            return Err(TOO_LARGE);
        }
        format!("{digits}{}", "0".repeat(shift as usize))
    };
    match whole.parse::<u64>() {
        Ok(v) if v <= u64::from(u32::MAX) => Ok(v as u32),
        _ => Err(TOO_LARGE),
    }
}

/// A count cell's text parsed, or the message naming its place and what is wrong.
pub(super) fn count_cell(source: &str, loc: Loc, col: &Col, value: &str) -> Result<u32, UserError> {
    parse_count(value).map_err(|why| {
        let shown = if value.is_empty() {
            "value".to_string()
        } else {
            format!("value \"{value}\"")
        };
        cell_error(source, loc, col, format!("{shown} {why}; {COUNT_RULE}"))
    })
}

/// Checks one (y, n) pair; `y_col` carries the message since successes is what's wrong.
pub(super) fn check_pair(
    source: &str,
    loc: Loc,
    lay: &Layout,
    y: u32,
    n: u32,
) -> Result<(), UserError> {
    if n == 0 {
        return Err(cell_error(
            source,
            loc,
            &lay.n,
            "trials is 0; each observation needs at least one trial",
        ));
    }
    if n > MAX_TRIALS {
        return Err(cell_error(
            source,
            loc,
            &lay.n,
            format!("trials {n} above 2^24 = {MAX_TRIALS}, the most the f32 kernels hold exactly"),
        ));
    }
    if y > n {
        return Err(cell_error(
            source,
            loc,
            &lay.y,
            format!(
                "successes {y} exceed trials {n} (column '{}'); successes must be <= trials",
                lay.n.name
            ),
        ));
    }
    Ok(())
}

pub(super) fn non_empty(
    source: &str,
    loc: Loc,
    col: &Col,
    value: String,
    what: &str,
) -> Result<String, UserError> {
    if value.is_empty() {
        return Err(cell_error(source, loc, col, format!("{what} is empty")));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{fails, spec};
    use super::*;

    #[test]
    fn parse_count_cases() {
        assert_eq!(parse_count("0"), Ok(0));
        assert_eq!(parse_count("-0"), Ok(0));
        assert_eq!(parse_count("4294967295"), Ok(u32::MAX));
        assert_eq!(parse_count("1.5e1"), Ok(15));
        assert_eq!(parse_count("2500e-2"), Ok(25));
        assert_eq!(parse_count("+7"), Ok(7));
        assert_eq!(
            parse_count("3.0000000000000001"),
            Err("is not a whole number")
        );
        assert_eq!(parse_count("0.5"), Err("is not a whole number"));
        assert_eq!(
            parse_count("1e400"),
            Err("is too large (the maximum is 4294967295)")
        );
        assert_eq!(
            parse_count("4294967296"),
            Err("is too large (the maximum is 4294967295)")
        );
        assert_eq!(parse_count("-inf"), Err("is infinite"));
        assert_eq!(parse_count("nan"), Err("is NaN"));
        assert_eq!(parse_count("1e"), Err("is not a number"));
        assert_eq!(parse_count("."), Err("is not a number"));
        assert_eq!(parse_count("0x10"), Err("is not a number"));
    }

    #[test]
    fn bad_counts_name_file_line_and_column() {
        let c = spec(None, None);
        let rule = "counts must be whole numbers >= 0";
        fails(
            "y,n\n1,2\n-1,5\n",
            &c,
            &["data.csv:3:1: column 'y'", "\"-1\" is negative", rule],
        );
        fails(
            "y,n\n1,\n",
            &c,
            &["data.csv:2:2: column 'n'", "value is empty"],
        );
        fails(
            "y,n\n1,abc\n",
            &c,
            &["data.csv:2:2: column 'n'", "\"abc\" is not a number"],
        );
        fails("y,n\nNaN,2\n", &c, &["data.csv:2:1: column 'y'", "is NaN"]);
        fails(
            "y,n\n1,inf\n",
            &c,
            &["data.csv:2:2: column 'n'", "is infinite"],
        );
        fails(
            "y,n\n3.5,4\n",
            &c,
            &["data.csv:2:1: column 'y'", "\"3.5\" is not a whole number"],
        );
        fails(
            "y,n\n1,5000000000\n",
            &c,
            &["data.csv:2:2: column 'n'", "too large"],
        );
    }

    #[test]
    fn trials_zero_and_successes_above_trials() {
        let c = spec(None, None);
        fails(
            "y,n\n0,0\n",
            &c,
            &["data.csv:2:2: column 'n'", "trials is 0"],
        );
        fails(
            "n,y\n5,7\n",
            &c,
            &["data.csv:2:2: column 'y'", "successes 7 exceed trials 5"],
        );
        // The f32 kernels' limit, at the cell that breaks it; 2^24 itself is fine.
        fails(
            "y,n\n1,16777216\n1,16777217\n",
            &c,
            &["data.csv:3:2: column 'n'", "trials 16777217 above 2^24"],
        );
    }
}
