//! A growable array in fixed-size chunks: indices are stable, growth never copies what is stored, and the
//! capacity is the number of slots ever used rounded up to a chunk, never twice it (a `Vec` that doubles holds up
//! to 2× its peak, and copies everything at each doubling). The payment arena of a large run is the use: its
//! memory follows the peak number of payments in flight.

use std::ops::{Index, IndexMut};

/// Slots per chunk.
const CHUNK_BITS: u32 = 10;
const CHUNK: usize = 1 << CHUNK_BITS;

#[derive(Clone, Debug)]
pub struct Slab<T> {
    /// Every chunk but the last is full; each was allocated with exactly `CHUNK` slots.
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab::new()
    }
}

impl<T> Slab<T> {
    pub fn new() -> Slab<T> {
        Slab {
            chunks: Vec::new(),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `value` at index `len()`.
    pub fn push(&mut self, value: T) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks
            .last_mut()
            .expect("a chunk with room")
            .push(value);
        self.len += 1;
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i >> CHUNK_BITS)?.get(i & (CHUNK - 1))
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks
            .get_mut(i >> CHUNK_BITS)?
            .get_mut(i & (CHUNK - 1))
    }
}

impl<T> Index<usize> for Slab<T> {
    type Output = T;
    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }
}

impl<T> IndexMut<usize> for Slab<T> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }
}

/// A first-in first-out list in chunks of `CHUNK`, emptied whole: its memory is the peak number of elements
/// rounded up to a chunk, where a `VecDeque` that doubles holds up to twice the peak (and three times while it
/// copies). One emptied chunk is kept for the next fill.
#[derive(Clone, Debug)]
pub struct ChunkedFifo<T> {
    chunks: Vec<Vec<T>>,
    spare: Option<Vec<T>>,
}

impl<T> Default for ChunkedFifo<T> {
    fn default() -> Self {
        ChunkedFifo {
            chunks: Vec::new(),
            spare: None,
        }
    }
}

impl<T> ChunkedFifo<T> {
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    pub fn push(&mut self, value: T) {
        if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
            let chunk = self
                .spare
                .take()
                .unwrap_or_else(|| Vec::with_capacity(CHUNK));
            self.chunks.push(chunk);
        }
        self.chunks
            .last_mut()
            .expect("a chunk with room")
            .push(value);
    }

    /// Hands every element to `f` in the order pushed and leaves the list empty.
    pub fn drain(&mut self, mut f: impl FnMut(T)) {
        for mut chunk in self.chunks.drain(..) {
            for value in chunk.drain(..) {
                f(value);
            }
            if self.spare.is_none() {
                self.spare = Some(chunk);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunked_fifo_gives_back_in_order_and_holds_whole_chunks() {
        let mut q = ChunkedFifo::default();
        for round in 0..3 {
            let n = round * CHUNK + 7;
            for i in 0..n {
                q.push(i);
            }
            assert_eq!(q.chunks.len(), n.div_ceil(CHUNK));
            let mut out = Vec::new();
            q.drain(|v| out.push(v));
            assert_eq!(out, (0..n).collect::<Vec<_>>());
            assert!(q.is_empty());
        }
    }

    #[test]
    fn indices_are_stable_across_chunks_and_capacity_follows_use() {
        let mut s = Slab::new();
        let n = 3 * CHUNK + 5;
        for i in 0..n {
            s.push(i * 7);
        }
        assert_eq!(s.len(), n);
        for i in 0..n {
            assert_eq!(s[i], i * 7);
        }
        s[CHUNK] = 1;
        assert_eq!(s.get(CHUNK), Some(&1));
        assert_eq!(s.get(n), None);
        assert_eq!(s.get_mut(n), None);
        let capacity: usize = s.chunks.iter().map(Vec::capacity).sum();
        assert_eq!(capacity, 4 * CHUNK, "whole chunks, no doubling");
    }
}
