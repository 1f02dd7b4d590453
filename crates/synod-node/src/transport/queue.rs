//! A peer's outbound queue, bounded in messages AND in bytes.
//!
//! The message bound alone (`queue_messages_max`, 4,096) let a queue hold
//! 4,096 frames of up to `frame_bytes_max` (4 MiB) each: 16 GiB of accepts
//! for a peer that has been down for a while, in the leader's memory. The
//! byte bound (`QUEUE_BYTES_MAX`) caps that; a frame that does not fit is
//! refused at `try_send` like one beyond the message bound (consensus
//! retransmits what a peer misses).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc::{self, error::TrySendError};

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueRefusal {
    /// The queue holds `queue_messages_max` frames.
    Messages,
    /// The frame would take the queue past its byte bound.
    Bytes,
    /// The receiving task is gone.
    Closed,
}

/// The sending side (`Transport::send`).
pub struct QueueSender {
    tx: mpsc::Sender<Vec<u8>>,
    bytes: Arc<AtomicUsize>,
    bytes_max: usize,
}

/// The receiving side (the peer's outbound task).
pub struct QueueReceiver {
    rx: mpsc::Receiver<Vec<u8>>,
    bytes: Arc<AtomicUsize>,
}

/// A queue of at most `messages_max` frames and `bytes_max` payload bytes.
pub fn channel(messages_max: usize, bytes_max: usize) -> (QueueSender, QueueReceiver) {
    let (tx, rx) = mpsc::channel(messages_max);
    let bytes = Arc::new(AtomicUsize::new(0));
    (QueueSender { tx, bytes: Arc::clone(&bytes), bytes_max }, QueueReceiver { rx, bytes })
}

impl QueueSender {
    /// Queues `payload` if both bounds allow it; never blocks.
    pub fn try_send(&self, payload: Vec<u8>) -> Result<(), QueueRefusal> {
        let len = payload.len();
        // Reserve the bytes first, so that concurrent senders cannot
        // overshoot the bound together.
        let reserved = self.bytes.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |queued| {
            queued.checked_add(len).filter(|total| *total <= self.bytes_max)
        });
        if reserved.is_err() {
            return Err(QueueRefusal::Bytes);
        }
        match self.tx.try_send(payload) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.bytes.fetch_sub(len, Ordering::SeqCst);
                Err(match e {
                    TrySendError::Full(_) => QueueRefusal::Messages,
                    TrySendError::Closed(_) => QueueRefusal::Closed,
                })
            }
        }
    }

    /// Frames queued now.
    pub fn len(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Payload bytes queued now.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::SeqCst)
    }
}

impl QueueReceiver {
    /// The next frame; `None` once every sender is gone.
    pub async fn recv(&mut self) -> Option<Vec<u8>> {
        let payload = self.rx.recv().await?;
        self.release(&payload);
        Some(payload)
    }

    /// The next frame if one is queued now.
    pub fn try_recv(&mut self) -> Option<Vec<u8>> {
        let payload = self.rx.try_recv().ok()?;
        self.release(&payload);
        Some(payload)
    }

    fn release(&self, payload: &[u8]) {
        let before = self.bytes.fetch_sub(payload.len(), Ordering::SeqCst);
        // Pair assertion with the reservation in `try_send`.
        assert!(before >= payload.len(), "a queued frame's bytes were reserved");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_beyond_the_byte_bound_are_refused_until_bytes_leave() {
        let (tx, mut rx) = channel(100, 10);
        assert_eq!(tx.try_send(vec![1; 6]), Ok(()));
        assert_eq!(tx.try_send(vec![2; 5]), Err(QueueRefusal::Bytes), "6 + 5 > 10");
        assert_eq!(tx.try_send(vec![3; 4]), Ok(()), "6 + 4 fits exactly");
        assert_eq!(tx.try_send(vec![4; 1]), Err(QueueRefusal::Bytes));
        assert_eq!((tx.len(), tx.bytes()), (2, 10));
        assert_eq!(rx.try_recv(), Some(vec![1; 6]));
        assert_eq!(tx.bytes(), 4);
        assert_eq!(tx.try_send(vec![5; 6]), Ok(()), "room again once a frame left");
        assert_eq!(rx.try_recv(), Some(vec![3; 4]));
        assert_eq!(rx.try_recv(), Some(vec![5; 6]));
        assert_eq!(rx.try_recv(), None);
        assert_eq!((tx.len(), tx.bytes()), (0, 0));
    }

    #[test]
    fn the_message_bound_still_holds_and_gives_its_bytes_back() {
        let (tx, mut rx) = channel(2, 1_000);
        assert_eq!(tx.try_send(vec![0; 10]), Ok(()));
        assert_eq!(tx.try_send(vec![0; 10]), Ok(()));
        assert_eq!(tx.try_send(vec![0; 10]), Err(QueueRefusal::Messages));
        assert_eq!(tx.bytes(), 20, "a refused frame holds no bytes");
        drop(rx.try_recv());
        drop(rx);
        assert_eq!(tx.try_send(vec![0; 10]), Err(QueueRefusal::Closed));
        assert_eq!(tx.bytes(), 10);
    }

    #[test]
    fn a_frame_larger_than_the_whole_bound_is_refused() {
        let (tx, _rx) = channel(4, 8);
        assert_eq!(tx.try_send(vec![0; 9]), Err(QueueRefusal::Bytes));
        assert_eq!(tx.bytes(), 0);
    }
}
