//! [`GenSlab`]: generation-tagged slots with a free list, the storage behind
//! the handles of [`HeapQueue`](super::HeapQueue) and
//! [`FairQueue`](super::FairQueue). ([`WheelQueue`](super::WheelQueue) keeps
//! its own, packed into 32 bytes per entry.)

use super::{Handle, QueueError};

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone)]
enum GenSlot<E> {
    Occupied { generation: u32, value: E },
    Vacant { next_free: u32, generation: u32 },
}

/// Slots named by `(index, generation)`. A freed slot is reused with the next
/// generation; a slot whose generation reaches `u32::MAX` is retired, never
/// reused, so a stale handle can never name another value.
#[derive(Debug, Clone)]
pub(crate) struct GenSlab<E> {
    slots: Vec<GenSlot<E>>,
    free_head: u32,
    max: usize,
}

impl<E> GenSlab<E> {
    /// An empty slab that holds at most `max` slots.
    pub(crate) fn new(max: usize) -> Self {
        GenSlab {
            slots: Vec::new(),
            free_head: NIL,
            max: max.min(NIL as usize),
        }
    }

    /// The handle the next [`insert`](Self::insert) will return.
    ///
    /// # Errors
    /// [`QueueError::Full`] when no slot is free and the slab is at its maximum.
    pub(crate) fn next_handle(&self) -> Result<Handle, QueueError> {
        match self.slots.get(self.free_head as usize) {
            Some(GenSlot::Vacant { generation, .. }) => {
                Ok(Handle::new(self.free_head, generation + 1))
            }
            _ if self.slots.len() >= self.max => Err(QueueError::Full(self.max)),
            #[allow(clippy::cast_possible_truncation)] // below max <= u32::MAX
            _ => Ok(Handle::new(self.slots.len() as u32, 1)),
        }
    }

    /// Stores `value` under [`next_handle`](Self::next_handle).
    ///
    /// # Errors
    /// [`QueueError::Full`] as for `next_handle`.
    pub(crate) fn insert(&mut self, value: E) -> Result<Handle, QueueError> {
        let h = self.next_handle()?;
        let idx = h.index() as usize;
        let occupied = GenSlot::Occupied {
            generation: h.generation(),
            value,
        };
        match self.slots.get_mut(idx) {
            Some(slot) => {
                if let GenSlot::Vacant { next_free, .. } = *slot {
                    self.free_head = next_free;
                }
                *slot = occupied;
            }
            None => self.slots.push(occupied),
        }
        Ok(h)
    }

    /// The value `h` names, if it is live.
    pub(crate) fn get(&self, h: Handle) -> Option<&E> {
        match self.slots.get(h.index() as usize) {
            Some(GenSlot::Occupied { generation, value }) if *generation == h.generation() => {
                Some(value)
            }
            _ => None,
        }
    }

    /// The live value at slot `idx`.
    pub(crate) fn at_mut(&mut self, idx: u32) -> Option<&mut E> {
        match self.slots.get_mut(idx as usize) {
            Some(GenSlot::Occupied { value, .. }) => Some(value),
            _ => None,
        }
    }

    /// The live value at slot `idx`.
    pub(crate) fn at(&self, idx: u32) -> Option<&E> {
        match self.slots.get(idx as usize) {
            Some(GenSlot::Occupied { value, .. }) => Some(value),
            _ => None,
        }
    }

    /// Frees slot `idx` and returns its value and the handle that named it.
    pub(crate) fn remove(&mut self, idx: u32) -> Option<(E, Handle)> {
        let slot = self.slots.get_mut(idx as usize)?;
        let GenSlot::Occupied { generation, .. } = *slot else {
            return None;
        };
        let retired = generation == NIL;
        let vacant = GenSlot::Vacant {
            next_free: if retired { NIL } else { self.free_head },
            generation,
        };
        let GenSlot::Occupied { value, .. } = core::mem::replace(slot, vacant) else {
            return None;
        };
        if !retired {
            self.free_head = idx;
        }
        Some((value, Handle::new(idx, generation)))
    }

    /// Every live value with its handle, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Handle, &E)> {
        (0u32..)
            .zip(self.slots.iter())
            .filter_map(|(i, s)| match s {
                GenSlot::Occupied { generation, value } => {
                    Some((Handle::new(i, *generation), value))
                }
                GenSlot::Vacant { .. } => None,
            })
    }

    /// Sets slot `idx` vacant at `generation` (a test reaching the end of the
    /// generations without four billion insertions).
    #[cfg(test)]
    pub(crate) fn set_vacant_generation(&mut self, idx: u32, generation: u32) {
        if let Some(slot) = self.slots.get_mut(idx as usize) {
            *slot = GenSlot::Vacant {
                next_free: NIL,
                generation,
            };
            self.free_head = idx;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_generation_checked_and_exhausted_slots_retire() {
        let mut s = GenSlab::new(3);
        let a = s.insert('a').unwrap();
        let b = s.insert('b').unwrap();
        assert_eq!((a.index(), a.generation()), (0, 1));
        assert_eq!(s.remove(a.index()), Some(('a', a)));
        assert_eq!(s.get(a), None, "stale");
        let c = s.insert('c').unwrap();
        assert_eq!(
            (c.index(), c.generation()),
            (0, 2),
            "reused, next generation"
        );
        assert_eq!(s.get(c), Some(&'c'));
        assert_eq!(s.get(b), Some(&'b'));
        assert!(s.insert('d').is_ok());
        assert_eq!(s.insert('e'), Err(QueueError::Full(3)));
        assert_eq!(s.remove(9), None);
        // The last generation: freed, never reused.
        s.set_vacant_generation(1, u32::MAX - 1);
        let last = s.insert('x').unwrap();
        assert_eq!(last.generation(), u32::MAX);
        s.remove(last.index());
        assert_eq!(s.next_handle(), Err(QueueError::Full(3)));
        let live: Vec<char> = s.iter().map(|(_, v)| *v).collect();
        assert_eq!(live, ['c', 'd']);
    }
}
