//! `settlesim trace DIR ID`: the story of one payment. The run directory holds the effective scenario; the trace
//! replays it (the simulation is deterministic) with the payment marked, and explains each step: when, where,
//! in UTC and local time, why it waited, what it cost.

use std::path::Path;

use crate::output::verify::{RUN_KIND, ResultDir};

use crate::app::AppError;
use crate::model::calendar::WaitReason;
use crate::model::record::{PaymentRecord, Place, Step, TraceStep};
use crate::model::sim::{self, RunOptions};
use crate::model::world::World;
use crate::units::{format_minor, human_duration_s};

pub fn trace(dir: &Path, id: u64, verify: bool) -> Result<String, AppError> {
    // The replay must be of the run that wrote this directory: its scenario.toml is checked against the
    // manifest's hash, and its canonical form against the manifest's scenario sha256.
    let results = ResultDir::open(dir, verify).map_err(AppError::Usage)?;
    if results.kind != RUN_KIND {
        return Err(AppError::Usage(format!(
            "{}: a sweep directory; trace one of its runs (runs/<k>/ with --payments) or a `settlesim run` directory",
            dir.display()
        )));
    }
    let bytes = results.read("scenario.toml").map_err(AppError::Usage)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        AppError::Usage(format!(
            "{}: not UTF-8",
            dir.join("scenario.toml").display()
        ))
    })?;
    let scenario_path = dir.join("scenario.toml");
    let loaded = crate::scenario::load(&scenario_path.display().to_string(), &text, &[])
        .map_err(AppError::Scenario)?;
    if let Some(sha) = results
        .manifest
        .get("scenario_sha256")
        .and_then(|v| v.as_str())
        && sha != loaded.sha256
    {
        return Err(AppError::Usage(format!(
            "{}: scenario.toml does not match manifest.json (sha256 {} vs {sha}); the directory was edited",
            dir.display(),
            &loaded.sha256[..12]
        )));
    }
    let w = &loaded.world;
    let mut found: Option<PaymentRecord> = None;
    let sink = |r: &PaymentRecord| {
        if r.id == id {
            found = Some(r.clone());
        }
    };
    let (outcome, _) = sim::run(
        w,
        sink,
        &RunOptions {
            trace_payment: Some(id),
        },
    )
    .map_err(|e| AppError::Sim(e.to_string()))?;
    let Some(rec) = found else {
        return Err(AppError::Usage(format!(
            "payment {id} does not exist in this run (ids are 0..{})",
            outcome.payments
        )));
    };
    Ok(render(w, &rec, &outcome.trace))
}

fn money(w: &World, minor: i64, c: crate::model::fx::CurId) -> String {
    let cur = w.fx.currency(c);
    format!("{} {cur}", format_minor(minor, cur.exponent))
}

fn place_name(w: &World, p: Place) -> String {
    match p {
        Place::Bank(b) => w.bank(b).name.clone(),
        Place::Domestic(d) => w.dom_rails[d.idx()].name.clone(),
        Place::Rail(r) => w.rails[r.idx()].name.clone(),
    }
}

fn local(w: &World, p: Place, t: u64) -> String {
    match p {
        Place::Bank(b) => w.bank_calendar(b).local_string(t),
        Place::Domestic(d) => w.calendar(w.dom_rails[d.idx()].calendar).local_string(t),
        Place::Rail(_) => String::new(),
    }
}

fn reason_text(r: WaitReason) -> &'static str {
    match r {
        WaitReason::None => "waits",
        WaitReason::BeforeOpening => "arrived before opening",
        WaitReason::AfterCutoff => "arrived after the cut-off",
        WaitReason::Weekend => "arrived on a weekend",
        WaitReason::Holiday => "arrived on a holiday",
        WaitReason::AchWindow => "waits for the next ACH batch window",
        WaitReason::Batch => "waits for the next withdrawal batch",
    }
}

fn describe(w: &World, s: &TraceStep) -> String {
    let t = s.t_us;
    let when = |u: u64| {
        format!(
            "{} ({} later)",
            crate::output::csv_out::iso(w.start, u),
            human_duration_s((u - t) as f64 / 1e6)
        )
    };
    match &s.step {
        Step::Created {
            amount_minor,
            currency,
        } => format!("payment created: {}", money(w, *amount_minor, *currency)),
        Step::Waiting { until_us, reason } => {
            format!("{}: waits until {}", reason_text(*reason), when(*until_us))
        }
        Step::Accepted => "accepted for processing".into(),
        Step::Fee {
            minor,
            currency,
            usd_cents,
            paid_by,
            ..
        } => {
            format!(
                "fee {} (USD {}), {paid_by}",
                money(w, *minor, *currency),
                format_minor(*usd_cents, 2)
            )
        }
        Step::Processed => "processed".into(),
        Step::ManualRepair { until_us } => format!(
            "not straight-through: manual repair until {}",
            when(*until_us)
        ),
        Step::ScreeningHit { until_us } => format!(
            "sanctions/AML screening hit: compliance review until {}",
            when(*until_us)
        ),
        Step::ScreeningCleared => "compliance review cleared".into(),
        Step::Rejected => "rejected by compliance".into(),
        Step::Converted {
            from_minor,
            from,
            to_minor,
            to,
            spread_usd_cents,
        } => format!(
            "converted {} → {} (FX spread USD {})",
            money(w, *from_minor, *from),
            money(w, *to_minor, *to),
            format_minor(*spread_usd_cents, 2)
        ),
        Step::NostroShortfall {
            owner,
            at,
            balance_minor,
            needed_minor,
        } => format!(
            "nostro shortfall: {}'s account at {} holds {}, needs {}; queued until funded",
            w.bank(*owner).name,
            w.bank(*at).name,
            format_minor(*balance_minor, 2),
            format_minor(*needed_minor, 2)
        ),
        Step::NostroFunded { waited_us } => format!(
            "nostro funded after {}",
            human_duration_s(*waited_us as f64 / 1e6)
        ),
        Step::Sent { to, arrives_us } => format!(
            "sent to {}, arrives {}",
            w.bank(*to).name,
            when(*arrives_us)
        ),
        Step::DomesticSubmitted {
            queue_wait_us,
            done_us,
        } => format!(
            "submitted to the domestic rail (queue {}), credited {}",
            human_duration_s(*queue_wait_us as f64 / 1e6),
            when(*done_us)
        ),
        Step::Settled { minor, currency } => format!(
            "settled: beneficiary credited {}",
            money(w, *minor, *currency)
        ),
        Step::ReturnStarted { arrives_us } => format!(
            "funds sent back to the originator, arrive {}",
            when(*arrives_us)
        ),
        Step::Returned { minor, currency } => format!(
            "returned: originator credited {}",
            money(w, *minor, *currency)
        ),
        Step::Failed => "failed at the originating bank: funds stay with the originator".into(),
        Step::ChainBroadcast { chain, bid } => {
            format!(
                "transfer broadcast on {} (bid {bid} per unit)",
                w.chains[chain.idx()].name
            )
        }
        Step::ChainIncluded {
            height,
            network_fee_usd_cents,
        } => format!(
            "included in block {height}; network fee USD {}",
            format_minor(*network_fee_usd_cents, 2)
        ),
        Step::DuplicateSubmitted { order } => {
            format!("the wallet submitted this order a second time (first as payment {order})")
        }
        Step::LimitExceeded {
            daily,
            limit_minor,
            currency,
        } => format!(
            "refused at initiation: over the link's {} limit of {}",
            if *daily { "daily" } else { "per-transaction" },
            money(w, *limit_minor, *currency)
        ),
        Step::ScreeningTimeout { budget_us } => format!(
            "sanctions screening cannot finish within the link's {} budget: rejected when it runs out",
            human_duration_s(*budget_us as f64 / 1e6)
        ),
        Step::LinkCrossing { arrives_us } => format!(
            "handed to the gateway between the two instant payment systems, reaches the next system {}",
            when(*arrives_us)
        ),
        Step::DuplicateDetected => {
            "duplicate of an order already paid: detected, refunded to the customer".into()
        }
        Step::PayoutScheduled { at_us } => format!(
            "payout to the merchant's bank scheduled for {}",
            when(*at_us)
        ),
        Step::ChainReorged => {
            "its block was orphaned by a reorganisation: back in the mempool".into()
        }
        Step::ChainDeposit {
            confirmations,
            finality,
        } => {
            if *finality {
                "deposit credited at finality".into()
            } else {
                format!("deposit credited after {confirmations} confirmation(s)")
            }
        }
    }
}

pub fn render(w: &World, rec: &PaymentRecord, steps: &[TraceStep]) -> String {
    let corridor = &w.corridors[rec.corridor.idx()].name;
    let rail = &w.rails[rec.rail.idx()].name;
    let outcome = match rec.latency_us() {
        Some(l) => format!(
            "{} after {}",
            rec.status.as_str(),
            human_duration_s(l as f64 / 1e6)
        ),
        None => "still in flight at the end of the run".into(),
    };
    // The "where" column fits the longest bank or rail name in the story.
    let where_w = steps
        .iter()
        .map(|s| place_name(w, s.place).chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    let mut out = vec![
        format!(
            "payment {} (demand {}) · {corridor} on {rail} · {} · {outcome}",
            rec.id,
            rec.demand_id,
            money(w, rec.amount_minor, rec.currency)
        ),
        format!(
            "cost USD {} = {:.0} bps: {}",
            format_minor(rec.cost.total(), 2),
            rec.cost_bps(),
            cost_parts(&rec.cost)
        ),
        String::new(),
        format!(
            "{:<24} {:<24} {:<10} {:<where_w$} what",
            "time (UTC)", "local time", "elapsed", "where"
        ),
    ];
    for s in steps {
        let elapsed = human_duration_s((s.t_us - rec.created_us) as f64 / 1e6);
        out.push(format!(
            "{:<24} {:<24} {:<10} {:<where_w$} {}",
            crate::output::csv_out::iso(w.start, s.t_us),
            local(w, s.place, s.t_us),
            if s.t_us == rec.created_us {
                "0".to_string()
            } else {
                elapsed
            },
            place_name(w, s.place),
            describe(w, s)
        ));
    }
    out.join("\n")
}

/// The cost split as words, components that cost nothing left out: "sender fee 40.00, FX spread 25.10".
fn cost_parts(c: &crate::model::record::CostSplit) -> String {
    let parts: Vec<String> = crate::model::record::CostSplit::NAMES
        .iter()
        .zip(c.parts())
        .filter(|(_, v)| *v != 0)
        .map(|(name, v)| format!("{} {}", name.replace('_', " "), format_minor(v, 2)))
        .collect();
    if parts.is_empty() {
        "nothing".into()
    } else {
        parts.join(", ")
    }
}
