//! Provisional event queue (replaced by the radix heap).
use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(u64, u64, Wrap<E>)>>,
    seq: u64,
}
struct Wrap<E>(E);
impl<E> PartialEq for Wrap<E> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<E> Eq for Wrap<E> {}
impl<E> PartialOrd for Wrap<E> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Wrap<E> {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl<E> EventQueue<E> {
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(n),
            seq: 0,
        }
    }
    pub fn push(&mut self, t: u64, e: E) {
        self.seq += 1;
        self.heap.push(Reverse((t, self.seq, Wrap(e))));
    }
    pub fn pop(&mut self) -> Option<(u64, E)> {
        self.heap.pop().map(|Reverse((t, _, w))| (t, w.0))
    }
    pub fn len(&self) -> usize {
        self.heap.len()
    }
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}
