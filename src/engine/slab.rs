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

#[cfg(test)]
mod tests {
    use super::*;

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
