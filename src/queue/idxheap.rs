//! A binary min-heap of `(key, slot index)` pairs that reports every element's
//! position to its owner, so an element can be removed from the middle in
//! O(log n) (cancel, reschedule).

/// Receives the new position of a slot's element after every move.
pub(crate) trait SetPos {
    fn set_pos(&mut self, idx: u32, pos: u32);
}

#[derive(Debug, Clone)]
pub(crate) struct IdxHeap<K> {
    v: Vec<(K, u32)>,
}

impl<K: Ord + Copy> Default for IdxHeap<K> {
    fn default() -> Self {
        IdxHeap { v: Vec::new() }
    }
}

// Positions fit in u32 because the heap never holds more elements than the
// slab, whose indices are u32.
#[allow(clippy::cast_possible_truncation)]
fn p32(i: usize) -> u32 {
    i as u32
}

impl<K: Ord + Copy> IdxHeap<K> {
    pub(crate) fn len(&self) -> usize {
        self.v.len()
    }

    pub(crate) fn peek(&self) -> Option<(K, u32)> {
        self.v.first().copied()
    }

    pub(crate) fn elems(&self) -> &[(K, u32)] {
        &self.v
    }

    pub(crate) fn push(&mut self, key: K, idx: u32, s: &mut impl SetPos) {
        self.v.push((key, idx));
        let last = self.v.len() - 1;
        self.sift_up(last, s);
    }

    pub(crate) fn pop(&mut self, s: &mut impl SetPos) -> Option<(K, u32)> {
        if self.v.is_empty() {
            return None;
        }
        Some(self.remove(0, s))
    }

    /// Removes the element at `pos` (which must be `< len`).
    pub(crate) fn remove(&mut self, pos: usize, s: &mut impl SetPos) -> (K, u32) {
        let out = self.v.swap_remove(pos);
        if pos < self.v.len() {
            s.set_pos(self.v[pos].1, p32(pos));
            let p = self.sift_up(pos, s);
            if p == pos {
                self.sift_down(pos, s);
            }
        }
        out
    }

    /// Replaces the content (a sorted vector is a valid heap).
    pub(crate) fn replace_all(&mut self, mut v: Vec<(K, u32)>, s: &mut impl SetPos) {
        v.sort_unstable();
        for (i, e) in v.iter().enumerate() {
            s.set_pos(e.1, p32(i));
        }
        self.v = v;
    }

    fn sift_up(&mut self, mut pos: usize, s: &mut impl SetPos) -> usize {
        let el = self.v[pos];
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if self.v[parent].0 <= el.0 {
                break;
            }
            self.v[pos] = self.v[parent];
            s.set_pos(self.v[pos].1, p32(pos));
            pos = parent;
        }
        self.v[pos] = el;
        s.set_pos(el.1, p32(pos));
        pos
    }

    fn sift_down(&mut self, mut pos: usize, s: &mut impl SetPos) {
        let el = self.v[pos];
        let n = self.v.len();
        loop {
            let l = 2 * pos + 1;
            if l >= n {
                break;
            }
            let r = l + 1;
            let c = if r < n && self.v[r].0 < self.v[l].0 {
                r
            } else {
                l
            };
            if self.v[c].0 >= el.0 {
                break;
            }
            self.v[pos] = self.v[c];
            s.set_pos(self.v[pos].1, p32(pos));
            pos = c;
        }
        self.v[pos] = el;
        s.set_pos(el.1, p32(pos));
    }
}
