//! Human names and units for the scenario fields a sweep varies: figures and reports say "block interval (s)",
//! not `chains[0].block_interval`. The table is keyed by the field's last path segment (the part after the last
//! `.`); a field missing from the table falls back to that segment with spaces, so a new field reads plainly
//! rather than failing.

/// (last path segment, human name, unit or "" when the value has none).
const FIELDS: [(&str, &str, &str); 22] = [
    ("block_interval", "block interval", "s"),
    ("block_capacity", "block capacity", "units"),
    ("tx_per_s", "background load", "tx/s"),
    ("tx_units", "transaction size", "units"),
    ("validators", "validators", ""),
    ("mempool_capacity", "mempool capacity", "units"),
    ("fee_median", "median background fee", "fee unit"),
    ("finality_epochs", "finality", "epochs"),
    ("confirmations", "confirmations", "blocks"),
    ("receiver_confirmations", "receiver confirmations", "blocks"),
    ("payments_per_day", "demand", "payments/day"),
    ("stp_rate", "straight-through rate", "share"),
    ("balance", "nostro balance", "minor units"),
    ("duration", "demand window", "s"),
    ("drain", "drain", "s"),
    ("hold_rate", "compliance hold rate", "share"),
    ("spread_bps", "FX spread", "bps"),
    ("fee_bps", "fee", "bps"),
    ("processing", "processing time", "s"),
    ("latency", "message latency", "s"),
    ("propagation", "propagation delay", "s"),
    ("seed", "seed", ""),
];

/// The human label of a field path with its unit: `chains[0].block_interval` → "block interval (s)". Where the
/// path has an index into a list other than the first chain (e.g. `banks[2]`), the owner is kept in the label so
/// two axes on different banks stay apart: `banks[2].stp_rate` → "straight-through rate, banks[2] (share)".
pub fn field_label(path: &str) -> String {
    let last = path.rsplit('.').next().unwrap_or(path);
    let owner = path
        .strip_suffix(last)
        .unwrap_or("")
        .trim_end_matches('.')
        .to_string();
    let (name, unit) = FIELDS.iter().find(|(k, _, _)| *k == last).map_or_else(
        || (last.replace('_', " "), ""),
        |(_, n, u)| (n.to_string(), *u),
    );
    // The first chain and the scenario root are implied; anything else is named so the label is unambiguous.
    let owner = match owner.as_str() {
        "" | "chains[0]" | "chains[0].background" | "limits" => String::new(),
        o => format!(", {o}"),
    };
    if unit.is_empty() {
        format!("{name}{owner}")
    } else {
        format!("{name}{owner} ({unit})")
    }
}

/// The label without its unit, for titles: "block interval".
pub fn field_name(path: &str) -> String {
    let l = field_label(path);
    match l.rfind(" (") {
        Some(i) if l.ends_with(')') => l[..i].to_string(),
        _ => l,
    }
}

/// A value of the axis `path` as a reader writes it: "block interval 12 s", "background load 600 tx/s".
pub fn field_value(path: &str, value: &str) -> String {
    let label = field_label(path);
    let v = value.trim_matches('"');
    match (label.rfind(" ("), label.ends_with(')')) {
        (Some(i), true) => {
            let unit = &label[i + 2..label.len() - 1];
            let number = if unit == "s" {
                v.to_string()
            } else {
                format!("{v} {unit}")
            };
            format!("{} {number}", &label[..i])
        }
        _ => format!("{label} {v}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_fields_get_names_and_units() {
        assert_eq!(
            field_label("chains[0].block_interval"),
            "block interval (s)"
        );
        assert_eq!(
            field_label("chains[0].background.tx_per_s"),
            "background load (tx/s)"
        );
        assert_eq!(
            field_label("banks[2].stp_rate"),
            "straight-through rate, banks[2] (share)"
        );
        assert_eq!(field_name("chains[0].block_capacity"), "block capacity");
        assert_eq!(
            field_value("chains[0].background.tx_per_s", "600"),
            "background load 600 tx/s"
        );
        assert_eq!(
            field_value("chains[0].block_interval", "12s"),
            "block interval 12s"
        );
    }

    #[test]
    fn unknown_fields_read_plainly() {
        assert_eq!(field_label("corridors[1].foo_bar"), "foo bar, corridors[1]");
    }
}
