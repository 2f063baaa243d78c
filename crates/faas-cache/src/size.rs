//! Parsing of byte budgets such as `"1048576"`, `"64K"`, `"0.5M"`, `"128M"`, `"1G"`, `"2T"`.
//! Invariant: a parsed budget is an exact integer number of bytes >= 1 (fractions are computed in
//! integer arithmetic and rounded down), and every malformed input is an error naming the input.

use crate::CacheError;

/// Parses a byte budget: an integer or decimal quantity with an optional `K`, `M`, `G` or `T`
/// suffix (powers of 1024, case-insensitive). Rejects empty, zero, negative, unknown suffixes,
/// exponents and anything that overflows `u64`.
///
/// ```
/// assert_eq!(faas_cache::parse_size("128M").unwrap(), 128 * 1024 * 1024);
/// assert_eq!(faas_cache::parse_size("0.5k").unwrap(), 512);
/// assert!(faas_cache::parse_size("12X").is_err());
/// ```
pub fn parse_size(input: &str) -> Result<u64, CacheError> {
    let err = |why: &str| {
        CacheError::invalid(format!(
            "max-size \"{}\": {why}",
            crate::error::excerpt(input)
        ))
    };
    let text = input.trim();
    if text.is_empty() {
        return Err(err(
            "empty; expected a number of bytes or a quantity such as \"64K\" or \"128M\"",
        ));
    }
    if text.starts_with('-') {
        return Err(err("negative; the byte budget must be at least 1 byte"));
    }
    // `strip_suffix` rather than slicing: no panic path in the guest.
    let (number, multiplier): (&str, u128) = if let Some(n) = text.strip_suffix(['K', 'k']) {
        (n, 1 << 10)
    } else if let Some(n) = text.strip_suffix(['M', 'm']) {
        (n, 1 << 20)
    } else if let Some(n) = text.strip_suffix(['G', 'g']) {
        (n, 1 << 30)
    } else if let Some(n) = text.strip_suffix(['T', 't']) {
        (n, 1 << 40)
    } else if text.ends_with(|c: char| c.is_ascii_digit() || c == '.') {
        (text, 1)
    } else {
        return Err(err(
            "unknown suffix; use K, M, G or T (powers of 1024) or none for bytes",
        ));
    };
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits_only(whole) || !digits_only(fraction) {
        return Err(err(
            "not a number; expected digits with an optional fraction, such as \"0.5M\"",
        ));
    }
    let too_large = || err("too large; at most 18446744073709551615 bytes (u64)");
    let whole_value: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse::<u128>().map_err(|_| too_large())?
    };
    let mut bytes = whole_value.checked_mul(multiplier).ok_or_else(too_large)?;
    // The fraction: digits beyond 2^40's 40 decimal places cannot change the floor; keep 24.
    let frac_digits = fraction.get(..24).unwrap_or(fraction);
    if !frac_digits.is_empty() {
        let numerator: u128 = frac_digits.parse().map_err(|_| too_large())?;
        let denominator = 10u128.pow(frac_digits.len() as u32);
        // numerator < 10^24 and multiplier <= 2^40: the product fits in u128.
        bytes = bytes
            .checked_add(numerator * multiplier / denominator)
            .ok_or_else(too_large)?;
    }
    let bytes = u64::try_from(bytes).map_err(|_| too_large())?;
    if bytes == 0 {
        return Err(err("zero; the byte budget must be at least 1 byte"));
    }
    Ok(bytes)
}

/// Formats a byte count the way `parse_size` reads it, using the largest exact suffix
/// (`134217728` -> `"128M"`, `1000` -> `"1000"`).
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1 << 40, "T"),
        (1 << 30, "G"),
        (1 << 20, "M"),
        (1 << 10, "K"),
    ];
    for (unit, suffix) in UNITS {
        if bytes >= unit && bytes.is_multiple_of(unit) {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b1_plain_bytes_and_suffixes() {
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("1K"), Ok(1024));
        assert_eq!(parse_size("64k"), Ok(65_536));
        assert_eq!(parse_size("128M"), Ok(134_217_728));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("2T"), Ok(2 << 40));
        assert_eq!(parse_size(" 3m "), Ok(3 << 20));
        assert_eq!(parse_size("18446744073709551615"), Ok(u64::MAX));
    }

    #[test]
    fn b1_fractions_round_down_to_whole_bytes() {
        assert_eq!(parse_size("0.5M"), Ok(524_288));
        assert_eq!(parse_size(".5K"), Ok(512));
        assert_eq!(parse_size("1.5"), Ok(1));
        assert_eq!(parse_size("1."), Ok(1));
        assert_eq!(parse_size("0.001K"), Ok(1));
    }

    #[test]
    fn b1_garbage_zero_negative_and_overflow_are_rejected() {
        for bad in [
            "",
            " ",
            "0",
            "0K",
            "0.0001K",
            "-1M",
            "-0",
            "12X",
            "1e400G",
            "1e3",
            "M",
            ".",
            "1.2.3",
            "+1K",
            "1 K",
            "0x10",
            "NaN",
            "inf",
            "16777216T",
            "18446744073709551616",
            "99999999999999999999999999999999999999999",
        ] {
            let e = parse_size(bad).expect_err(bad);
            assert!(
                matches!(e, CacheError::InvalidArgument(ref m) if m.contains("max-size")),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn format_round_trips() {
        for n in [
            1u64,
            1000,
            1024,
            1536,
            128 << 20,
            3 << 30,
            2 << 40,
            u64::MAX,
        ] {
            assert_eq!(parse_size(&format_size(n)), Ok(n));
        }
        assert_eq!(format_size(128 << 20), "128M");
    }
}
