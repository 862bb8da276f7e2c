//! An open-addressing hash table (linear probing) from a key kept inline to a `u32` id,
//! at most half full, with probes that can be prefetched ahead. Joins map a single
//! integer key to its first build row through it; group ids map keys that fit in 128
//! bits to their group (keys/).

/// MurmurHash3's 64-bit finalizer: every input bit reaches every output bit, so the
/// table's bucket (low bits) and tag (high bits) both vary.
pub(crate) fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

pub(crate) fn mix_word(w: u128) -> u64 {
    mix(w as u64 ^ ((w >> 64) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// A key kept inline in a [`SlotTable`].
pub(crate) trait SlotKey: Copy + Eq + Default {
    fn hash(self) -> u64;
}

impl SlotKey for u64 {
    fn hash(self) -> u64 {
        mix(self)
    }
}

impl SlotKey for u128 {
    fn hash(self) -> u64 {
        mix_word(self)
    }
}

/// Open addressing (linear probing) from a key to an id, the key inline. Kept at most
/// half full. Group ids keep a one-column key's NULL not in it but in `null`.
pub(crate) struct SlotTable<K> {
    slots: Vec<(K, u32)>,
    len: usize,
    /// The NULL key's group, once a NULL came.
    pub(crate) null: Option<usize>,
}

pub(crate) const EMPTY: u32 = u32::MAX;

impl<K: SlotKey> SlotTable<K> {
    pub fn new() -> Self {
        SlotTable {
            slots: vec![(K::default(), EMPTY); 1024],
            len: 0,
            null: None,
        }
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Asks the cache for the slot `hash` starts at; a batch's probes are issued ahead.
    #[inline(always)]
    pub fn prefetch(&self, hash: u64) {
        #[cfg(target_arch = "x86_64")]
        {
            let slot = self.slots.as_ptr().wrapping_add(hash as usize & self.mask());
            // SAFETY: prefetching has no effect on memory; the address is in the slots.
            unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(slot as *const i8) };
        }
    }

    /// The id of `key`, or `None` after inserting it as group `next`.
    #[inline(always)]
    pub(crate) fn find_or_insert(&mut self, key: K, hash: u64, next: usize) -> Option<usize> {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            let (k, id) = self.slots[i];
            if id == EMPTY {
                self.slots[i] = (key, next as u32);
                self.len += 1;
                return None;
            }
            if k == key {
                return Some(id as usize);
            }
            i = (i + 1) & mask;
        }
    }

    /// The id stored with `key`.
    #[inline(always)]
    pub fn get(&self, key: K, hash: u64) -> Option<u32> {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            let (k, id) = self.slots[i];
            if id == EMPTY {
                return None;
            }
            if k == key {
                return Some(id);
            }
            i = (i + 1) & mask;
        }
    }

    /// Stores `id` with `key`; returns the id it replaces (the caller chains it).
    #[inline(always)]
    pub fn replace(&mut self, key: K, hash: u64, id: u32) -> Option<u32> {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            let (k, old) = self.slots[i];
            if old == EMPTY {
                self.slots[i] = (key, id);
                self.len += 1;
                return None;
            }
            if k == key {
                self.slots[i].1 = id;
                return Some(old);
            }
            i = (i + 1) & mask;
        }
    }

    /// Room for `more` keys at most half full.
    pub fn reserve(&mut self, more: usize) {
        if 2 * (self.len + more) <= self.slots.len() {
            return;
        }
        let size = (2 * (self.len + more)).next_power_of_two();
        let old = std::mem::replace(&mut self.slots, vec![(K::default(), EMPTY); size]);
        let mask = size - 1;
        for (k, id) in old.into_iter().filter(|&(_, id)| id != EMPTY) {
            let mut i = k.hash() as usize & mask;
            while self.slots[i].1 != EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = (k, id);
        }
    }
}
