//! Docker's units: sizes (`256m`, `1.5g`, `512MiB`), CPU counts (`1.5`), and how we print
//! them back (`256 MiB`).

/// A size in bytes, as docker's `RAMInBytes` reads it: a decimal number, optionally followed
/// (after one optional space) by `b`, `k`, `m`, `g`, `t` or `p` (any case, binary multiples),
/// optionally followed by `i` and/or `b` (`kb`, `KiB`, `MB` all mean 1024-based).
pub fn size(raw: &str) -> Option<u64> {
    let s = raw.trim();
    let digits_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(digits_end);
    if number.is_empty()
        || number.starts_with('.')
        || number.ends_with('.')
        || number.matches('.').count() > 1
    {
        return None;
    }
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    let (letter, rest) = match unit.chars().next() {
        Some(c @ ('k' | 'm' | 'g' | 't' | 'p')) => (Some(c), &unit[1..]),
        _ => (None, unit.as_str()),
    };
    let shift = match letter {
        None => 0,
        Some('k') => 10,
        Some('m') => 20,
        Some('g') => 30,
        Some('t') => 40,
        _ => 50,
    };
    let rest_ok = matches!((letter, rest), (_, "" | "b") | (Some(_), "i" | "ib"));
    if !rest_ok {
        return None;
    }
    let multiplier = 1u128 << shift;
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let whole: u128 = whole.parse().ok()?;
    // Fractions: exact in 1e-9 steps, then truncated to whole bytes (as docker does).
    let frac = frac.get(..frac.len().min(9)).unwrap_or("");
    let frac_value: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse::<u128>().ok()? * 10u128.pow(9 - frac.len() as u32)
    };
    let bytes = whole.checked_mul(multiplier)? + frac_value * multiplier / 1_000_000_000;
    u64::try_from(bytes).ok().filter(|&b| b <= i64::MAX as u64)
}

/// A CPU count (`1.5`, `0.25`, `2`) in billionths of a CPU (docker's NanoCPUs).
pub fn nano_cpus(raw: &str) -> Option<u64> {
    let s = raw.trim();
    if s.is_empty() || s.starts_with('.') || s.ends_with('.') {
        return None;
    }
    if !s.chars().all(|c| c.is_ascii_digit() || c == '.') || s.matches('.').count() > 1 {
        return None;
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 9 {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let frac_value: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<u64>().ok()? * 10u64.pow(9 - frac.len() as u32)
    };
    whole.checked_mul(1_000_000_000)?.checked_add(frac_value)
}

/// `256 MiB`, `1.5 GiB`, `512 KiB`, `100 B`: the largest binary unit that keeps a whole
/// part, with at most one decimal (dropped when zero).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut unit = 0;
    while unit + 1 < UNITS.len() && bytes >= 1u64 << (10 * (unit + 1)) {
        unit += 1;
    }
    if unit == 0 {
        return format!("{bytes} B");
    }
    let tenths = (u128::from(bytes) * 10 + (1u128 << (10 * unit)) / 2) >> (10 * unit);
    if tenths.is_multiple_of(10) {
        format!("{} {}", tenths / 10, UNITS[unit])
    } else {
        format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
    }
}

/// `1.5` from 1_500_000_000 nano CPUs (no trailing zeros).
pub fn cpus_text(nano: u64) -> String {
    let whole = nano / 1_000_000_000;
    let frac = nano % 1_000_000_000;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:09}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_docker_reads_them() {
        let mib = 1u64 << 20;
        for (raw, want) in [
            ("256m", Some(256 * mib)),
            ("256M", Some(256 * mib)),
            ("256mb", Some(256 * mib)),
            ("256MiB", Some(256 * mib)),
            ("256 m", Some(256 * mib)),
            ("1.5g", Some(1536 * mib)),
            ("4096", Some(4096)),
            ("4096b", Some(4096)),
            ("1k", Some(1024)),
            ("2t", Some(2 << 40)),
            ("1p", Some(1 << 50)),
            ("0.5k", Some(512)),
            ("-1", None),
            ("", None),
            ("m", None),
            ("1x", None),
            ("1ib", None),
            ("1.2.3m", None),
            (".5m", None),
            ("5.m", None),
            ("1mm", None),
            ("99999999999p", None),
            ("9223372036854775808", None),
        ] {
            assert_eq!(size(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn cpu_counts() {
        assert_eq!(nano_cpus("1.5"), Some(1_500_000_000));
        assert_eq!(nano_cpus("0.01"), Some(10_000_000));
        assert_eq!(nano_cpus("2"), Some(2_000_000_000));
        assert_eq!(nano_cpus("0"), Some(0));
        for bad in ["-1", "", "abc", "1.", ".5", "1e3", "1.0000000001", "1,5"] {
            assert_eq!(nano_cpus(bad), None, "{bad:?}");
        }
        assert_eq!(cpus_text(1_500_000_000), "1.5");
        assert_eq!(cpus_text(2_000_000_000), "2");
        assert_eq!(cpus_text(10_000_000), "0.01");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(256 << 20), "256 MiB");
        assert_eq!(human_bytes(1536 << 20), "1.5 GiB");
        assert_eq!(human_bytes(100), "100 B");
        assert_eq!(human_bytes(6 << 20), "6 MiB");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1 KiB");
    }
}
