//! Random streams are keyed by what a component is, not where it sits in the file: inserting a rail, a
//! domestic rail or a bank anywhere in a mirror-mode scenario leaves every other rail's payments and every other
//! chain's blocks byte for byte as they were.

use std::collections::BTreeMap;

use settlesim::model::record::PaymentRecord;
use settlesim::model::sim::{self, RunOptions};

const SCENARIO: &str = include_str!("../scenarios/stablecoin-remittance.toml");

/// Per rail name: every payment keyed by its demand draw (positions such as the payment id and the rail index
/// are blanked), and the Debug rendering of the chain figures of the rail's world.
type ByRail = BTreeMap<String, (Vec<PaymentRecord>, Vec<String>)>;

fn run(text: &str) -> ByRail {
    let o = vec!["duration=2d".to_string(), "limits.drain=4d".to_string()];
    let loaded = settlesim::scenario::load("s.toml", text, &o).unwrap_or_else(|e| panic!("{e}"));
    let w = &loaded.world;
    let mut records: Vec<PaymentRecord> = Vec::new();
    let (outcome, _) = sim::run(
        w,
        |r: &PaymentRecord| records.push(r.clone()),
        &RunOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut by: ByRail = BTreeMap::new();
    for r in records {
        let name = w.rails[r.rail.idx()].name.clone();
        let mut r = r.clone();
        (r.id, r.rail) = (0, settlesim::model::world::RailId(0));
        by.entry(name).or_default().0.push(r);
    }
    for c in &outcome.chains {
        let name = c.rail.map_or("-".into(), |r| w.rails[r.idx()].name.clone());
        by.entry(name)
            .or_default()
            .1
            .push(format!("{:?}", c.metrics));
    }
    for v in by.values_mut() {
        v.0.sort_by_key(|r| (r.demand_id, r.duplicate));
    }
    by
}

/// The base scenario's rails compare equal in `changed`, and `changed` has more rails when one was added.
fn assert_nothing_else_changed(base: &ByRail, changed: &ByRail, what: &str) {
    for (rail, (records, chains)) in base {
        let (r2, c2) = changed
            .get(rail)
            .unwrap_or_else(|| panic!("{what}: rail {rail} missing"));
        assert!(!records.is_empty(), "{rail} has payments");
        assert_eq!(records.len(), r2.len(), "{what}: payments on {rail}");
        for (a, b) in records.iter().zip(r2) {
            assert_eq!(a, b, "{what}: a payment on {rail} changed");
        }
        assert_eq!(chains, c2, "{what}: the chain of {rail} changed");
    }
}

const WIRE: &str = "[[rails]]\nid = \"wire0\"\nkind = \"correspondent\"\ncharge_bearer = \"OUR\"\n\
                    message_delay = { median = \"1m\", p90 = \"10m\" }\nreturn_delay = { fixed = \"2d\" }\n\n";
const WIRE_ROUTE: &str = "[[corridors.routes]]\nrail = \"wire0\"\npath = [\"us_bank\", \"us_corr\", \"mx_bank\"]\n\
                          convert_at = \"mx_bank\"\nlast_mile = \"spei\"\n\n";

#[test]
fn inserting_a_rail_first_changes_no_other_rail() {
    let base = run(SCENARIO);
    let text = SCENARIO
        .replacen("[[rails]]", &format!("{WIRE}[[rails]]"), 1)
        .replacen(
            "[[corridors.routes]]",
            &format!("{WIRE_ROUTE}[[corridors.routes]]"),
            1,
        );
    let changed = run(&text);
    assert!(changed.contains_key("wire0"));
    assert_nothing_else_changed(&base, &changed, "a rail inserted first");
}

#[test]
fn appending_a_rail_changes_no_other_rail() {
    let base = run(SCENARIO);
    let text =
        format!("{SCENARIO}\n{WIRE_ROUTE}").replacen("[[chains]]", &format!("{WIRE}[[chains]]"), 1);
    let changed = run(&text);
    assert!(changed.contains_key("wire0"));
    assert_nothing_else_changed(&base, &changed, "a rail appended");
}

#[test]
fn inserting_a_domestic_rail_or_a_bank_first_changes_nothing() {
    let base = run(SCENARIO);
    let dom = "[[domestic_rails]]\nid = \"rtp\"\nkind = \"instant\"\ncalendar = \"always\"\ncapacity_per_s = 10\n\
               latency = { median = \"2s\", p90 = \"5s\" }\n\n";
    let text = SCENARIO.replacen("[[domestic_rails]]", &format!("{dom}[[domestic_rails]]"), 1);
    assert_eq!(run(&text), base, "a domestic rail inserted first");
    let bank = "[[banks]]\nid = \"other\"\ncountry = \"US\"\ncalendar = \"us\"\n\n";
    let text = SCENARIO.replacen("[[banks]]", &format!("{bank}[[banks]]"), 1);
    assert_eq!(run(&text), base, "a bank inserted first");
}

#[test]
fn adding_a_corridor_to_a_rail_changes_nothing_on_its_other_corridors() {
    // A rail's own draws (message and return delays) come from a stream per (rail, corridor): a second corridor on
    // swift, with banks of its own, leaves every swift payment on USD-MXN as it was. (With one stream per rail, the
    // new corridor's payments took draws from the same sequence and moved USD-MXN's p50 by minutes.)
    let banks = "[[banks]]\nid = \"us_bank2\"\ncountry = \"US\"\ncalendar = \"us\"\n\
                 processing = { median = \"5m\", p90 = \"30m\" }\nsend_fee_usd = 20\n\n\
                 [[banks]]\nid = \"mx_bank2\"\ncountry = \"MX\"\ncalendar = \"mx\"\n\
                 processing = { median = \"10m\", p90 = \"1h\" }\nfx_spread_bps = 100\n\n\
                 [[nostros]]\nowner = \"us_bank2\"\nat = \"mx_bank2\"\ncurrency = \"USD\"\nbalance = 5000000\n\n";
    let corridor = "\n[[corridors]]\nid = \"USD-MXN-2\"\nfrom_country = \"US\"\nto_country = \"MX\"\n\
                    source_currency = \"USD\"\ndest_currency = \"MXN\"\npayments_per_day = 300\n\
                    amount = { median = 500, sigma = 1.0 }\n\n[[corridors.routes]]\nrail = \"swift\"\n\
                    path = [\"us_bank2\", \"mx_bank2\"]\nconvert_at = \"mx_bank2\"\n";
    let text =
        format!("{SCENARIO}{corridor}").replacen("[[banks]]", &format!("{banks}[[banks]]"), 1);
    let base = run(SCENARIO);
    let changed = run(&text);
    let corridor_of = |by: &ByRail, rail: &str, c: u16| -> Vec<PaymentRecord> {
        // demand ids count arrivals over every corridor, so they shift; the payments themselves must not.
        by[rail]
            .0
            .iter()
            .filter(|r| r.corridor.0 == c)
            .map(|r| PaymentRecord {
                demand_id: 0,
                ..r.clone()
            })
            .collect()
    };
    let (a, b) = (
        corridor_of(&base, "swift", 0),
        corridor_of(&changed, "swift", 0),
    );
    assert!(!a.is_empty());
    assert!(
        corridor_of(&changed, "swift", 1).len() > 100,
        "the new corridor carries payments on swift"
    );
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            x, y,
            "a swift payment on USD-MXN changed when a corridor was added"
        );
    }
    assert!(
        corridor_of(&base, "usdt_tron", 0) == corridor_of(&changed, "usdt_tron", 0),
        "a payment on the chain rail changed"
    );
    assert!(
        base["usdt_tron"].1 == changed["usdt_tron"].1,
        "the chain rail's blocks changed"
    );
}
