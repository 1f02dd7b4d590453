//! Median time past (Core's `CBlockIndex::GetMedianTimePast`, used by
//! `ContextualCheckBlockHeader`'s "time-too-old" check).

/// How many previous headers the median is taken over (`nMedianTimeSpan`).
pub const MEDIAN_TIME_SPAN: usize = 11;

/// A sliding window of the last [`MEDIAN_TIME_SPAN`] header times.
///
/// A new header's time must be strictly greater than the median of the
/// window filled with its predecessors (the parent and up to ten ancestors).
#[derive(Clone, Debug, Default)]
pub struct MedianTimeWindow {
    times: [u32; MEDIAN_TIME_SPAN],
    len: usize,
    next: usize,
}

impl MedianTimeWindow {
    /// An empty window.
    pub fn new() -> MedianTimeWindow {
        MedianTimeWindow::default()
    }

    /// Adds the time of the header just accepted, evicting the oldest once
    /// the window is full.
    pub fn push(&mut self, time: u32) {
        self.times[self.next] = time;
        self.next = (self.next + 1) % MEDIAN_TIME_SPAN;
        self.len = (self.len + 1).min(MEDIAN_TIME_SPAN);
    }

    /// Number of times held (at most 11).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if no time has been pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True once 11 times are held, i.e. the median is the one Core uses
    /// away from genesis.
    pub fn is_full(&self) -> bool {
        self.len == MEDIAN_TIME_SPAN
    }

    /// The median of the held times, or `None` if empty. Near genesis Core
    /// takes the median of however many ancestors exist; this does the same.
    pub fn median(&self) -> Option<u32> {
        median_time_past(&self.times[..self.len])
    }
}

/// Median of up to 11 times exactly as `GetMedianTimePast`: sort, then take
/// element `len / 2` (for an even count, the upper of the two middles).
pub fn median_time_past(times: &[u32]) -> Option<u32> {
    if times.is_empty() {
        return None;
    }
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    Some(sorted[sorted.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_eleven_is_sixth_smallest() {
        let times = [5, 1, 9, 3, 7, 11, 2, 8, 4, 10, 6];
        assert_eq!(median_time_past(&times), Some(6));
    }

    #[test]
    fn even_count_takes_upper_middle() {
        assert_eq!(median_time_past(&[1, 2, 3, 4]), Some(3));
        assert_eq!(median_time_past(&[7]), Some(7));
        assert_eq!(median_time_past(&[]), None);
    }

    #[test]
    fn window_slides() {
        let mut w = MedianTimeWindow::new();
        assert!(w.is_empty());
        assert_eq!(w.median(), None);
        for t in 1..=11 {
            w.push(t * 10);
        }
        assert!(w.is_full());
        assert_eq!(w.median(), Some(60));
        // Evicts 10; window is 20..=120.
        w.push(120);
        assert_eq!(w.len(), 11);
        assert_eq!(w.median(), Some(70));
        // Out-of-order times are fine: the median sorts.
        w.push(0);
        assert_eq!(w.median(), Some(70)); // 30..=120 plus 0 -> sorted middle 70
    }
}
