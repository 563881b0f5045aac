//! The messages a lane still has to deliver. The relayer keeps nothing older than the
//! destination's delivered sequence: its accumulator there is read from the destination (which
//! only ever stores what a validator quorum signed), so a start or a resync never rebuilds the
//! lane's whole history, and memory holds the undelivered messages only.

use alloy::primitives::B256;
use zb_protocol::{Accumulator, Message, SequenceError};

#[derive(Debug, Clone)]
pub(crate) struct Window {
    /// The accumulator after the newest message held (after `base` when none is).
    accumulator: Accumulator,
    /// The sequence just before `messages[0]`: delivered on the destination.
    base: u64,
    messages: Vec<Message>,
    /// `accumulators[i]` is the accumulator after `messages[i]`.
    accumulators: Vec<B256>,
    /// `blocks[i]` is the source block `messages[i]` was sent in: where a restart resumes.
    blocks: Vec<u64>,
}

impl Window {
    /// Starts after `delivered`, whose accumulator the destination stores as `accumulator`.
    pub(crate) fn after(lane: B256, delivered: u64, accumulator: B256) -> Window {
        let accumulator = if delivered == 0 {
            Accumulator::new(lane)
        } else {
            Accumulator { lane, sequence: delivered, value: accumulator }
        };
        Window { accumulator, base: delivered, messages: Vec::new(), accumulators: Vec::new(), blocks: Vec::new() }
    }

    /// The newest sequence known.
    pub(crate) fn head(&self) -> u64 {
        self.accumulator.sequence
    }

    /// The sequence the window starts after.
    pub(crate) fn base(&self) -> u64 {
        self.base
    }

    /// Adds newly final messages in order, each with the source block it was sent in. Those at
    /// or below the head (already delivered when the window began) are skipped; a gap is an
    /// error and adds nothing.
    pub(crate) fn extend(&mut self, messages: impl IntoIterator<Item = (Message, u64)>) -> Result<(), SequenceError> {
        let mut accumulator = self.accumulator.clone();
        let mut fresh = Vec::new();
        for (message, block) in messages {
            if message.sequence <= accumulator.sequence {
                continue;
            }
            let value = accumulator.push(&message)?;
            fresh.push((message, value, block));
        }
        self.accumulator = accumulator;
        for (message, value, block) in fresh {
            self.messages.push(message);
            self.accumulators.push(value);
            self.blocks.push(block);
        }
        Ok(())
    }

    /// The lowest sequence that may still be undelivered (`base + 1`) and the source block a
    /// restart must read from to find it: its own block when held, else `next_block` (the
    /// first block not read yet), since it was not sent in any block read so far.
    pub(crate) fn resume_point(&self, next_block: u64) -> (u64, u64) {
        (self.base + 1, self.blocks.first().copied().unwrap_or(next_block))
    }

    /// Forgets what the destination has delivered. False when the destination went back below
    /// the window (a destination reorg): the window cannot serve it, resync.
    pub(crate) fn prune(&mut self, delivered: u64) -> bool {
        if delivered < self.base {
            return false;
        }
        let drop = usize::try_from(delivered - self.base).unwrap_or(usize::MAX).min(self.messages.len());
        self.messages.drain(..drop);
        self.accumulators.drain(..drop);
        self.blocks.drain(..drop);
        self.base += drop as u64;
        true
    }

    /// Messages `from + 1 ..= to` (those held).
    pub(crate) fn between(&self, from: u64, to: u64) -> &[Message] {
        let index = |sequence: u64| usize::try_from(sequence.saturating_sub(self.base)).unwrap_or(usize::MAX);
        let (start, end) = (index(from).min(self.messages.len()), index(to).min(self.messages.len()));
        &self.messages[start..end.max(start)]
    }

    /// The accumulator after `sequence`, if the window holds it.
    pub(crate) fn accumulator_at(&self, sequence: u64) -> Option<B256> {
        let index = usize::try_from(sequence.checked_sub(self.base)?.checked_sub(1)?).ok()?;
        self.accumulators.get(index).copied()
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{Address, U256};

    use super::*;

    /// Message `sequence` as sent in block `10 * sequence`.
    fn sent(sequence: u64) -> (Message, u64) {
        (message(sequence), 10 * sequence)
    }

    fn message(sequence: u64) -> Message {
        Message {
            sequence,
            kind: 1,
            sender: Address::ZERO,
            recipient: Address::repeat_byte(1),
            amount: U256::from(sequence),
            data: B256::ZERO,
            sentAt: 1000 + sequence,
            deadline: u64::MAX,
        }
    }

    #[test]
    fn a_window_seeded_from_the_destination_matches_the_full_history() {
        let lane = B256::repeat_byte(7);
        let mut full = Window::after(lane, 0, B256::ZERO);
        full.extend((1..=10).map(sent)).expect("in order");
        let at_six = full.accumulator_at(6).expect("held");

        // Seeded at 6 from the destination's accumulator: the same values from 7 on, and the
        // messages up to 6 (read again from the source) are skipped.
        let mut seeded = Window::after(lane, 6, at_six);
        seeded.extend((1..=10).map(sent)).expect("in order");
        assert_eq!(seeded.head(), 10);
        for sequence in 7..=10 {
            assert_eq!(seeded.accumulator_at(sequence), full.accumulator_at(sequence), "{sequence}");
        }
        assert_eq!(seeded.accumulator_at(6), None, "not held");
        assert_eq!(seeded.between(6, 8).iter().map(|m| m.sequence).collect::<Vec<_>>(), vec![7, 8]);

        // Pruning drops what was delivered; a destination that went back cannot be served.
        assert!(seeded.prune(8));
        assert_eq!((seeded.base(), seeded.between(8, 10).len()), (8, 2));
        assert_eq!(seeded.accumulator_at(9), full.accumulator_at(9));
        assert!(!seeded.prune(7));
        assert!(seeded.prune(12), "past the head: everything is dropped");
        assert!(seeded.between(8, 10).is_empty());
    }

    #[test]
    fn a_restart_resumes_at_the_block_of_the_lowest_undelivered_message() {
        let lane = B256::repeat_byte(7);
        let mut window = Window::after(lane, 0, B256::ZERO);
        assert_eq!(window.resume_point(5), (1, 5), "nothing read: from the first block not read");
        window.extend((1..=10).map(sent)).expect("in order");
        assert_eq!(window.resume_point(101), (1, 10));
        assert!(window.prune(6));
        assert_eq!(window.resume_point(101), (7, 70), "message 7 was sent in block 70");
        assert!(window.prune(10));
        assert_eq!(window.resume_point(101), (11, 101), "everything delivered: the next block not read");
        // The destination delivered past what was read (another relayer): still at or after
        // the next block, since the lowest message the window lacks was not read yet.
        let mut behind = Window::after(lane, 0, B256::ZERO);
        behind.extend((1..=3).map(sent)).expect("in order");
        assert!(behind.prune(8));
        assert_eq!(behind.resume_point(31), (4, 31));
    }

    #[test]
    fn a_gap_adds_nothing() {
        let lane = B256::repeat_byte(7);
        let mut window = Window::after(lane, 0, B256::ZERO);
        assert!(window.extend([sent(1), sent(2), sent(4)]).is_err());
        assert_eq!((window.head(), window.between(0, 4).len()), (0, 0));
    }
}
