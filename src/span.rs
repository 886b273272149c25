//! Byte spans into the source text.

use std::hash::{Hash, Hasher};
use std::ops::Range;

/// A byte range `start..end` in the source a node was parsed from.
///
/// Spans are carried for diagnostics only: two spans always compare equal and
/// hash alike, so a parsed node equals the same node built by hand (whose
/// span is [`Span::DUMMY`]). Compare [`Span::range`] when positions matter.
#[derive(Clone, Copy, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// The span of a node that was not parsed from text.
    pub const DUMMY: Span = Span { start: 0, end: 0 };

    /// A span from byte offsets. Offsets are `u32`: the parser rejects
    /// sources of 4 GiB or more before any span is made.
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The byte range, for slicing the source.
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Whether this is [`Span::DUMMY`] (a node built in code).
    pub fn is_dummy(self) -> bool {
        self.start == 0 && self.end == 0
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}

impl Eq for Span {}

impl Hash for Span {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_never_affect_equality() {
        assert_eq!(Span::new(1, 2), Span::new(5, 9));
        assert_eq!(Span::new(1, 2).range(), 1..2);
        assert!(Span::DUMMY.is_dummy());
        assert_eq!(Span::new(3, 4).to(Span::new(1, 2)).range(), 1..4);
    }
}
