//! Pure data shaping for figures: CSV text to a table of named columns, CDF points from an HDR histogram,
//! stacked-bar segments from summary rows. No I/O, no drawing; each function has unit tests.

use hdrhistogram::Histogram;

/// A CSV file held as text: a header and rows, looked up by column name.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn parse(bytes: &[u8]) -> Result<Table, String> {
        let mut r = csv::Reader::from_reader(bytes);
        let header = r
            .headers()
            .map_err(|e| e.to_string())?
            .iter()
            .map(String::from)
            .collect();
        let mut rows = Vec::new();
        for rec in r.records() {
            rows.push(
                rec.map_err(|e| e.to_string())?
                    .iter()
                    .map(String::from)
                    .collect(),
            );
        }
        Ok(Table { header, rows })
    }

    pub fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The text of `row` in column `name` ("" if the column is missing).
    pub fn text<'a>(&'a self, row: &'a [String], name: &str) -> &'a str {
        self.col(name)
            .and_then(|i| row.get(i))
            .map_or("", String::as_str)
    }

    /// The number in `row` at column `name`; None for a missing column or an empty field.
    pub fn num(&self, row: &[String], name: &str) -> Option<f64> {
        self.text(row, name).parse::<f64>().ok()
    }

    /// The rows whose column `name` equals `value`.
    pub fn filter<'a>(
        &'a self,
        name: &'a str,
        value: &'a str,
    ) -> impl Iterator<Item = &'a Vec<String>> {
        self.rows
            .iter()
            .filter(move |r| self.text(r, name) == value)
    }
}

/// The empirical CDF of a latency histogram (milliseconds) as (seconds, share) points, the share taken of
/// `payments` (all payments of the rail, so the curve ends at the settled share, not at 1). One point per recorded
/// value: the share settled within that value's bucket.
pub fn cdf_points(hist: &Histogram<u64>, payments: u64) -> Vec<(f64, f64)> {
    let total = payments.max(hist.len()).max(1) as f64;
    let mut cumulative = 0_u64;
    let mut points = Vec::new();
    for v in hist.iter_recorded() {
        cumulative += v.count_at_value();
        let ms = hist.highest_equivalent(v.value_iterated_to());
        points.push((ms as f64 / 1000.0, cumulative as f64 / total));
    }
    points
}

/// A cost component: its label and its column in summary.csv (the FX spread is `fx_cost_usd_total` less the ramp
/// spreads, which that column includes).
pub const COST_COMPONENTS: [(&str, &str); 9] = [
    ("sender fee", "sender_fee_usd_total"),
    ("intermediary fees", "intermediary_fees_usd_total"),
    ("FX spread", "fx_cost_usd_total"),
    ("network fee", "network_fee_usd_total"),
    ("ramp spreads", "ramp_spread_usd_total"),
    ("ramp fees", "ramp_fees_usd_total"),
    ("domestic / payout fees", "domestic_fees_usd_total"),
    ("receiver fee", "receiver_fee_usd_total"),
    // Signed: what the price of a held asset moved against the customer (a gain is negative).
    ("price move", "price_move_usd_total"),
];

/// The cost of capital of the positions a rail's payments used (summary.csv's `liquidity_cost_usd_total`): not a
/// charge to the customer, so outside `COST_COMPONENTS` and drawn and totalled apart, always labelled.
pub const LIQUIDITY_COMPONENT: (&str, &str) =
    ("liquidity (cost of capital)", "liquidity_cost_usd_total");

const FX_COST: &str = "fx_cost_usd_total";
const RAMP_SPREAD: &str = "ramp_spread_usd_total";

/// One rail's cost split: bps of the amount per component, in `COST_COMPONENTS` order.
#[derive(Clone, Debug, PartialEq)]
pub struct CostBar {
    pub rail: String,
    pub bps: Vec<f64>,
    /// The cost of capital in bps of the amount (`LIQUIDITY_COMPONENT`; 0 when the summary has none).
    pub liquidity_bps: f64,
}

impl CostBar {
    /// What the customer pays: the sum of `COST_COMPONENTS`, without the cost of capital.
    pub fn total(&self) -> f64 {
        self.bps.iter().sum()
    }
    /// The total with the cost of capital of the positions the payments used.
    pub fn with_capital(&self) -> f64 {
        self.total() + self.liquidity_bps
    }
}

/// The cost split of each rail's `all` row of summary.csv: component total ÷ amount_usd_total × 10⁴. Rails keep
/// their order in the file (the scenario's order).
pub fn cost_bars(summary: &Table) -> Vec<CostBar> {
    summary
        .filter("corridor", "all")
        .map(|row| cost_bar(summary, row))
        .collect()
}

/// The cost split of one row of summary.csv (a rail on all its corridors, or on one), and its cost of capital.
pub fn cost_bar(summary: &Table, row: &[String]) -> CostBar {
    let amount = summary.num(row, "amount_usd_total").unwrap_or(0.0);
    let bps = COST_COMPONENTS
        .iter()
        .map(|(_, col)| {
            let mut usd = summary.num(row, col).unwrap_or(0.0);
            if *col == FX_COST {
                // summary.csv's FX cost includes the ramps' spreads, which have their own segment.
                usd -= summary.num(row, RAMP_SPREAD).unwrap_or(0.0);
            }
            if amount > 0.0 {
                usd / amount * 1e4
            } else {
                0.0
            }
        })
        .collect();
    let liquidity = summary.num(row, LIQUIDITY_COMPONENT.1).unwrap_or(0.0);
    CostBar {
        rail: summary.text(row, "rail").to_string(),
        bps,
        liquidity_bps: if amount > 0.0 {
            liquidity / amount * 1e4
        } else {
            0.0
        },
    }
}

/// The corridors of summary.csv (every corridor some rail serves), in file order.
pub fn corridors(summary: &Table) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in &summary.rows {
        let c = summary.text(r, "corridor");
        if c != "all" && !out.iter().any(|o| o == c) {
            out.push(c.to_string());
        }
    }
    out
}

/// The corridors one rail serves, in file order.
pub fn rail_corridors(summary: &Table, rail: &str) -> Vec<String> {
    summary
        .rows
        .iter()
        .filter(|r| summary.text(r, "rail") == rail && summary.text(r, "corridor") != "all")
        .map(|r| summary.text(r, "corridor").to_string())
        .collect()
}

/// A rail's name as a figure's legend shows it: with its corridors when it does not serve every corridor of the
/// run ("ips_link (SGD-THB only)"), so that an "all corridors" figure never compares a rail on one corridor with
/// one on four without saying so.
pub fn rail_label(summary: &Table, rail: &str) -> String {
    let all = corridors(summary);
    let mine = rail_corridors(summary, rail);
    if mine.len() == all.len() || mine.is_empty() {
        rail.to_string()
    } else {
        format!("{rail} ({} only)", mine.join(", "))
    }
}

/// The rails of a summary, in file order.
pub fn rails(summary: &Table) -> Vec<String> {
    summary
        .filter("corridor", "all")
        .map(|r| summary.text(r, "rail").to_string())
        .collect()
}

/// Parses a grid value as a number: a plain number, or a duration (`60s`, `10m`, `2d`) in seconds.
pub fn grid_number(text: &str) -> Option<f64> {
    let t = text.trim().trim_matches('"');
    if let Ok(x) = t.parse::<f64>() {
        return x.is_finite().then_some(x);
    }
    crate::units::parse_duration_us(t)
        .ok()
        .map(|us| us as f64 / 1e6)
}

/// Whether a summary-style row is for a rail (not a chain row of a sweep, whose corridor is `chain`).
pub fn is_chain_row(table: &Table, row: &[String]) -> bool {
    table.text(row, "corridor") == "chain"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        Table::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn cdf_of_a_histogram_ends_at_the_settled_share() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        h.record(1000).unwrap(); // 1 s
        h.record(1000).unwrap();
        h.record(60_000).unwrap(); // 1 min
        let pts = cdf_points(&h, 4);
        assert_eq!(pts.len(), 2);
        assert!((pts[0].0 - 1.0).abs() < 0.01 && (pts[0].1 - 0.5).abs() < 1e-12);
        assert!((pts[1].0 - 60.0).abs() < 0.1 && (pts[1].1 - 0.75).abs() < 1e-12);
        // Fewer payments than settled (a malformed summary) never gives a share above 1.
        assert!((cdf_points(&h, 1).last().unwrap().1 - 1.0).abs() < 1e-12);
        assert!(cdf_points(&Histogram::<u64>::new(3).unwrap(), 0).is_empty());
    }

    #[test]
    fn cost_bars_are_component_totals_over_the_amount() {
        let t = table(
            "rail,corridor,amount_usd_total,sender_fee_usd_total,intermediary_fees_usd_total,fx_cost_usd_total,\
network_fee_usd_total,ramp_spread_usd_total,ramp_fees_usd_total,domestic_fees_usd_total,receiver_fee_usd_total,\
liquidity_cost_usd_total\n\
a,X,100,1,1,1,1,1,1,1,1,1\n\
a,all,10000,10,20,40,0,10,0,5,5,3\n\
b,all,0,0,0,0,0,0,0,0,0,0\n",
        );
        let bars = cost_bars(&t);
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[0].rail, "a");
        assert_eq!(
            bars[0].bps,
            vec![10.0, 20.0, 30.0, 0.0, 10.0, 0.0, 5.0, 5.0, 0.0]
        );
        assert_eq!(bars[0].total(), 80.0);
        // The cost of capital is apart from what the customer pays.
        assert!((bars[0].liquidity_bps - 3.0).abs() < 1e-12);
        assert!((bars[0].with_capital() - 83.0).abs() < 1e-12);
        assert_eq!(bars[1].total(), 0.0);
        assert_eq!(rails(&t), vec!["a", "b"]);
    }

    #[test]
    fn grid_values_are_numbers_or_durations() {
        assert_eq!(grid_number("0.5"), Some(0.5));
        assert_eq!(grid_number("600s"), Some(600.0));
        assert_eq!(grid_number("10m"), Some(600.0));
        assert_eq!(grid_number("\"eip1559\""), None);
    }

    #[test]
    fn missing_columns_and_empty_fields_are_none() {
        let t = table("a,b\n1,\n");
        assert_eq!(t.num(&t.rows[0], "a"), Some(1.0));
        assert_eq!(t.num(&t.rows[0], "b"), None);
        assert_eq!(t.num(&t.rows[0], "c"), None);
    }
}
