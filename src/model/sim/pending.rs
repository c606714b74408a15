//! Finished payments waiting for the close of the hour they ended in (their cost of capital), packed.
//!
//! With `[rates]` every record waits up to an hour, and a burst can make that many: the scale input's Mexican
//! holiday holds ~146 k payments until the banks open, and ~100 k of them end within the next hour. A
//! `PaymentRecord` is ~380 bytes, most of it zeros (unused cost parts and stages) and small numbers, so a
//! waiting record is stored as a presence mask and LEB128 varints of its non-zero fields: ~60 bytes. Records
//! come back exactly as they went in, in the order pushed.

use crate::model::fx::CurId;
use crate::model::record::{CostSplit, EndReason, Hold, PaymentRecord, Stage, Status};
use crate::model::world::{CorridorId, RailId, RouteId};

/// Bytes per chunk; a record never spans two.
const CHUNK_BYTES: usize = 1 << 16;
/// Fields of a record (and its route) as words: see `words`.
const FIELDS: usize = 47;
/// The longest encoding: the mask and every field at 10 bytes.
const MAX_RECORD_BYTES: usize = 10 * (FIELDS + 1);

/// A first-in first-out list of packed records in chunks, emptied whole; one emptied chunk is kept for the next
/// fill. Its memory is the peak of the packed bytes rounded up to a chunk.
#[derive(Default)]
pub(super) struct Pending {
    chunks: Vec<Vec<u8>>,
    spare: Option<Vec<u8>>,
}

impl Pending {
    pub(super) fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    pub(super) fn push(&mut self, rec: &PaymentRecord, route: RouteId) {
        if self
            .chunks
            .last()
            .is_none_or(|c| CHUNK_BYTES - c.len() < MAX_RECORD_BYTES)
        {
            let chunk = self
                .spare
                .take()
                .unwrap_or_else(|| Vec::with_capacity(CHUNK_BYTES));
            self.chunks.push(chunk);
        }
        encode(
            rec,
            route,
            self.chunks.last_mut().expect("a chunk with room"),
        );
    }

    /// Hands every record to `f` in the order pushed and leaves the list empty.
    pub(super) fn drain(&mut self, mut f: impl FnMut(PaymentRecord, RouteId)) {
        for mut chunk in self.chunks.drain(..) {
            let mut at = 0;
            while at < chunk.len() {
                let (rec, route) = decode(&chunk, &mut at);
                f(rec, route);
            }
            if self.spare.is_none() {
                chunk.clear();
                self.spare = Some(chunk);
            }
        }
    }
}

fn zigzag(x: i64) -> u64 {
    ((x << 1) ^ (x >> 63)) as u64
}

fn unzigzag(x: u64) -> i64 {
    ((x >> 1) as i64) ^ -((x & 1) as i64)
}

/// Writes `x` as a LEB128 varint at `out[*at..]` (room for 10 bytes).
#[inline]
fn put(out: &mut [u8; MAX_RECORD_BYTES], at: &mut usize, mut x: u64) {
    while x >= 0x80 {
        out[*at] = x as u8 | 0x80;
        *at += 1;
        x >>= 7;
    }
    out[*at] = x as u8;
    *at += 1;
}

/// Reads the LEB128 varint at `buf[*at..]`. With eight bytes to read and a varint of at most eight (values
/// below 2^56: every field but extreme ones), the varint is taken in one load: its length from the first byte
/// without a continuation bit, and its seven-bit groups joined pairwise in three steps.
#[inline]
fn get(buf: &[u8], at: &mut usize) -> u64 {
    if let Some(bytes) = buf.get(*at..*at + 8) {
        let x = u64::from_le_bytes(bytes.try_into().expect("eight bytes"));
        let ends = !x & 0x8080_8080_8080_8080;
        if ends != 0 {
            let len = ends.trailing_zeros() as usize / 8 + 1;
            *at += len;
            let x = if len == 8 {
                x
            } else {
                x & ((1 << (8 * len)) - 1)
            } & 0x7f7f_7f7f_7f7f_7f7f;
            let x = ((x & 0x7f00_7f00_7f00_7f00) >> 1) | (x & 0x007f_007f_007f_007f);
            let x = ((x & 0x3fff_0000_3fff_0000) >> 2) | (x & 0x0000_3fff_0000_3fff);
            return ((x & 0x0fff_ffff_0000_0000) >> 4) | (x & 0x0000_0000_0fff_ffff);
        }
    }
    let mut x = 0_u64;
    let mut shift = 0;
    loop {
        let b = buf[*at];
        *at += 1;
        x |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return x;
        }
        shift += 7;
    }
}

/// Word positions of the optional fields: their bit in the mask means `Some` (the value may be 0); every other
/// field's bit means non-zero.
const OPTIONAL: u64 = 1 << 8 | 1 << 24 | 1 << 25 | 1 << 26 | 1 << 29 | 1 << 45;

/// A record and its route as words (signed values zigzagged; the end and acceptance as offsets from creation,
/// wrapping, so they stay small) and the mask of words present.
fn words(r: &PaymentRecord, route: RouteId) -> ([u64; FIELDS], u64) {
    let opt = |o: Option<u64>| (o.is_some(), o.unwrap_or(0));
    let since_created = |o: Option<u64>| opt(o.map(|t| t.wrapping_sub(r.created_us)));
    let c = &r.cost;
    let mut w = [0_u64; FIELDS];
    let mut some = 0_u64;
    let mut set_opt = |w: &mut [u64; FIELDS], i: usize, (present, v): (bool, u64)| {
        if present {
            some |= 1 << i;
            w[i] = v;
        }
    };
    w[0] = r.id;
    w[1] = r.demand_id;
    w[2] = u64::from(r.corridor.0);
    w[3] = u64::from(r.rail.0);
    w[4] = zigzag(r.amount_minor);
    w[5] = u64::from(r.currency.0);
    w[6] = zigzag(r.amount_usd_cents);
    w[7] = r.created_us;
    set_opt(&mut w, 8, since_created(r.ended_us));
    w[9] = r.status as u64;
    w[10] = zigzag(r.delivered_minor);
    w[11] = u64::from(r.delivered_currency.0);
    let mut parts = [0; 10];
    parts[..9].copy_from_slice(&c.parts());
    parts[9] = c.liquidity;
    for (k, &x) in parts.iter().enumerate() {
        w[12 + k] = zigzag(x);
    }
    w[22] = u64::from(r.duplicate);
    w[23] = r.reason as u64;
    set_opt(&mut w, 24, opt(r.chain_inclusion_us));
    set_opt(&mut w, 25, opt(r.chain_settlement_us));
    set_opt(&mut w, 26, since_created(r.accepted_us));
    w[27] = r.slowest as u64;
    w[28] = r.slowest_us;
    set_opt(&mut w, 29, opt(r.exposed_us));
    w[30] = zigzag(r.ramp_price_move_cents);
    w[31..31 + Stage::COUNT].copy_from_slice(&r.stages_us);
    set_opt(&mut w, 45, opt(r.fx_exposure_us));
    w[46] = u64::from(route.0);
    let mut mask = some;
    for (i, &x) in w.iter().enumerate() {
        if OPTIONAL & (1 << i) == 0 && x != 0 {
            mask |= 1 << i;
        }
    }
    (w, mask)
}

fn encode(r: &PaymentRecord, route: RouteId, out: &mut Vec<u8>) {
    let (w, mask) = words(r, route);
    let mut bytes = [0_u8; MAX_RECORD_BYTES];
    let mut at = 0;
    put(&mut bytes, &mut at, mask);
    for (i, &x) in w.iter().enumerate() {
        if mask & (1 << i) != 0 {
            put(&mut bytes, &mut at, x);
        }
    }
    out.extend_from_slice(&bytes[..at]);
}

fn decode(buf: &[u8], at: &mut usize) -> (PaymentRecord, RouteId) {
    let mask = get(buf, at);
    let mut w = [0_u64; FIELDS];
    for (i, x) in w.iter_mut().enumerate() {
        if mask & (1 << i) != 0 {
            *x = get(buf, at);
        }
    }
    let created_us = w[7];
    let opt = |i: usize| (mask & (1 << i) != 0).then_some(w[i]);
    let since_created = |i: usize| opt(i).map(|d| d.wrapping_add(created_us));
    let part = |k: usize| unzigzag(w[12 + k]);
    let rec = PaymentRecord {
        id: w[0],
        demand_id: w[1],
        corridor: CorridorId(w[2] as u16),
        rail: RailId(w[3] as u16),
        amount_minor: unzigzag(w[4]),
        currency: CurId(w[5] as u16),
        amount_usd_cents: unzigzag(w[6]),
        created_us,
        ended_us: since_created(8),
        status: Status::ALL[w[9] as usize],
        delivered_minor: unzigzag(w[10]),
        delivered_currency: CurId(w[11] as u16),
        cost: CostSplit::from_parts(std::array::from_fn(&part), part(9)),
        duplicate: w[22] != 0,
        reason: EndReason::ALL[w[23] as usize],
        chain_inclusion_us: opt(24),
        chain_settlement_us: opt(25),
        accepted_us: since_created(26),
        slowest: Hold::ALL[w[27] as usize],
        slowest_us: w[28],
        exposed_us: opt(29),
        ramp_price_move_cents: unzigzag(w[30]),
        stages_us: w[31..31 + Stage::COUNT].try_into().expect("14 stages"),
        fx_exposure_us: opt(45),
    };
    (rec, RouteId(w[46] as u16))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: u64) -> PaymentRecord {
        PaymentRecord {
            id: i,
            demand_id: i / 4,
            corridor: CorridorId(1),
            rail: RailId(3),
            amount_minor: 150_000 + i as i64,
            currency: CurId(2),
            amount_usd_cents: 150_000,
            created_us: 1_000_000 * i,
            ended_us: Some(1_000_000 * i + 7),
            status: Status::Settled,
            delivered_minor: 2_580_000,
            delivered_currency: CurId(5),
            cost: CostSplit {
                sender_fee: 4_000,
                fx_spread: 2_250,
                price_move: -17,
                ..CostSplit::default()
            },
            duplicate: false,
            reason: EndReason::None,
            chain_inclusion_us: None,
            chain_settlement_us: Some(0),
            accepted_us: Some(1_000_000 * i),
            slowest: Hold::ClosedHours,
            slowest_us: 5,
            exposed_us: None,
            ramp_price_move_cents: 0,
            stages_us: [0, 5, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            fx_exposure_us: None,
        }
    }

    /// Every field at an extreme: the largest and smallest integers, `Some(0)` beside `None`, the last variant
    /// of every enum.
    fn extreme() -> PaymentRecord {
        PaymentRecord {
            id: u64::MAX,
            demand_id: u64::MAX - 1,
            corridor: CorridorId(u16::MAX),
            rail: RailId(u16::MAX),
            amount_minor: i64::MIN,
            currency: CurId(u16::MAX),
            amount_usd_cents: i64::MAX,
            created_us: u64::MAX,
            ended_us: Some(0),
            status: Status::InFlight,
            delivered_minor: -1,
            delivered_currency: CurId(0),
            cost: CostSplit {
                sender_fee: i64::MIN,
                intermediary_fees: i64::MAX,
                receiver_fee: -1,
                fx_spread: 1,
                domestic_fees: i64::MIN + 1,
                network_fee: i64::MAX - 1,
                ramp_spread: -(1 << 40),
                ramp_fees: 1 << 40,
                price_move: i64::MIN,
                liquidity: i64::MAX,
            },
            duplicate: true,
            reason: EndReason::ScreeningTimeout,
            chain_inclusion_us: Some(u64::MAX),
            chain_settlement_us: Some(0),
            accepted_us: Some(u64::MAX - 3),
            slowest: Hold::MemberLimit,
            slowest_us: u64::MAX,
            exposed_us: Some(0),
            ramp_price_move_cents: i64::MIN,
            stages_us: [u64::MAX; Stage::COUNT],
            fx_exposure_us: Some(u64::MAX),
        }
    }

    #[test]
    fn records_come_back_exactly_and_in_order_across_chunks() {
        let mut q = Pending::default();
        let mut sent = vec![(extreme(), RouteId(u16::MAX))];
        sent.extend((0..5_000).map(|i| (record(i), RouteId((i % 7) as u16))));
        sent.push((extreme(), RouteId(0)));
        for round in 0..2 {
            for (r, route) in &sent {
                q.push(r, *route);
            }
            assert!(q.chunks.len() > 1, "round {round} spans chunks");
            let mut got = Vec::new();
            q.drain(|r, route| got.push((r, route)));
            assert!(q.is_empty());
            assert_eq!(got, sent);
        }
    }

    /// Varints of every length (1 to 10 bytes), read in one load or byte by byte near the end of the buffer:
    /// each comes back as written, and the position moves past it exactly.
    #[test]
    fn varints_of_every_length_read_back_anywhere_in_a_buffer() {
        let mut values = vec![
            0,
            1,
            0x7f,
            0x80,
            u64::MAX,
            (1 << 56) - 1,
            1 << 56,
            (1 << 63) + 5,
        ];
        for bits in 1..64 {
            values.extend([(1_u64 << bits) - 1, 1 << bits, (1 << bits) + 0x55]);
        }
        let mut buf = Vec::new();
        for &v in &values {
            let mut bytes = [0_u8; MAX_RECORD_BYTES];
            let mut n = 0;
            put(&mut bytes, &mut n, v);
            buf.extend_from_slice(&bytes[..n]);
        }
        // Read from the start, and again with the buffer cut right after each value (no eight-byte load).
        let mut at = 0;
        for &v in &values {
            let before = at;
            assert_eq!(get(&buf, &mut at), v);
            let mut again = before;
            assert_eq!(get(&buf[..at], &mut again), v, "at the end of the buffer");
            assert_eq!(again, at);
        }
        assert_eq!(at, buf.len());
    }

    #[test]
    fn an_ordinary_record_packs_small() {
        let mut out = Vec::new();
        encode(&record(1_000_000), RouteId(3), &mut out);
        assert!(out.len() <= 48, "{} bytes", out.len());
        let mut longest = Vec::new();
        encode(&extreme(), RouteId(u16::MAX), &mut longest);
        assert!(longest.len() <= MAX_RECORD_BYTES);
    }

    #[test]
    fn enum_tables_are_in_declaration_order() {
        for (i, s) in Status::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i);
        }
        for (i, r) in EndReason::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i);
        }
        for (i, h) in Hold::ALL.iter().enumerate() {
            assert_eq!(*h as usize, i);
        }
    }
}
