//! `--samples A:B`: a Python-style slice of the per-channel sample axis.
//!
//! `A` and `B` may each be omitted (`:B`, `A:`, `:`), negative values count from the end
//! (`-10:` is the last ten samples), and a step (`A:B:C`) is not allowed. Unlike Python,
//! an index outside the stream (`|value| > n`) is an error rather than silently
//! clamped; a start after the stop gives an empty selection, as in Python.

use std::fmt;
use std::ops::Range;

/// A parsed `A:B` slice, not yet bound to a stream length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleSlice {
    /// `A`: first sample, `None` for the start of the stream.
    pub start: Option<i64>,
    /// `B`: one past the last sample, `None` for the end of the stream.
    pub stop: Option<i64>,
}

impl SampleSlice {
    /// Parses `A:B` (either side may be empty). Used as clap's value parser, so a
    /// malformed slice is a usage error.
    ///
    /// # Errors
    ///
    /// A message saying what is malformed: no colon, a step, or a side that is not
    /// an integer.
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split(':').collect();
        match parts.as_slice() {
            [start, stop] => Ok(Self {
                start: parse_side(start, "start")?,
                stop: parse_side(stop, "stop")?,
            }),
            [_] => Err(format!("expected a slice A:B, got {text:?}")),
            _ => Err(format!(
                "a step is not allowed in a sample slice, got {text:?}"
            )),
        }
    }

    /// Binds the slice to a stream of `n` samples per channel and returns the selected
    /// range, `start <= end <= n`.
    ///
    /// # Errors
    ///
    /// A message naming the bound (start or stop) that lies outside the stream.
    pub fn resolve(&self, n: u64) -> Result<Range<u64>, String> {
        let start = match self.start {
            None => 0,
            Some(v) => index(v, n, "start")?,
        };
        let stop = match self.stop {
            None => n,
            Some(v) => index(v, n, "stop")?,
        };
        Ok(start..stop.max(start))
    }
}

impl fmt::Display for SampleSlice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(a) = self.start {
            write!(f, "{a}")?;
        }
        f.write_str(":")?;
        if let Some(b) = self.stop {
            write!(f, "{b}")?;
        }
        Ok(())
    }
}

fn parse_side(text: &str, which: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>()
        .map(Some)
        .map_err(|e| format!("slice {which} {text:?} is not an integer: {e}"))
}

/// Normalizes one bound: negative counts from the end; anything outside `0..=n` is an
/// error.
fn index(value: i64, n: u64, which: &str) -> Result<u64, String> {
    let resolved = if value < 0 {
        n.checked_sub(value.unsigned_abs())
    } else {
        u64::try_from(value).ok().filter(|&v| v <= n)
    };
    resolved.ok_or_else(|| {
        format!("sample slice {which} {value} is out of range for a stream of {n} samples")
    })
}

#[cfg(test)]
mod tests {
    use super::SampleSlice;

    fn s(text: &str) -> SampleSlice {
        SampleSlice::parse(text).expect("valid slice")
    }

    #[test]
    fn parses_all_forms() {
        assert_eq!(
            s("3:7"),
            SampleSlice {
                start: Some(3),
                stop: Some(7)
            }
        );
        assert_eq!(
            s(":7"),
            SampleSlice {
                start: None,
                stop: Some(7)
            }
        );
        assert_eq!(
            s("-3:"),
            SampleSlice {
                start: Some(-3),
                stop: None
            }
        );
        assert_eq!(
            s(":"),
            SampleSlice {
                start: None,
                stop: None
            }
        );
        assert_eq!(s("-3:-1").to_string(), "-3:-1");
        assert_eq!(s(":").to_string(), ":");
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["5", "1:2:3", "1::", "a:3", "3:b", "1.5:2", ""] {
            assert!(SampleSlice::parse(bad).is_err(), "{bad:?} must be rejected");
        }
        let e = SampleSlice::parse("1:2:1").expect_err("step");
        assert!(e.contains("step"), "{e}");
    }

    #[test]
    fn resolves_like_python() {
        let n = 10;
        assert_eq!(s(":").resolve(n), Ok(0..10));
        assert_eq!(s("2:5").resolve(n), Ok(2..5));
        assert_eq!(s("-3:").resolve(n), Ok(7..10));
        assert_eq!(s(":-1").resolve(n), Ok(0..9));
        assert_eq!(s("-10:-9").resolve(n), Ok(0..1));
        assert_eq!(s("10:").resolve(n), Ok(10..10));
        assert_eq!(s("5:5").resolve(n), Ok(5..5));
        assert_eq!(s("7:3").resolve(n), Ok(7..7));
        assert_eq!(s("0:10").resolve(n), Ok(0..10));
    }

    #[test]
    fn out_of_range_is_an_error() {
        let e = s("0:11").resolve(10).expect_err("stop past end");
        assert!(e.contains("stop 11") && e.contains("10 samples"), "{e}");
        assert!(s("11:").resolve(10).is_err());
        assert!(s("-11:").resolve(10).is_err());
        assert!(s(":-11").resolve(10).is_err());
        assert!(s(&format!("{}:", i64::MIN)).resolve(10).is_err());
        assert!(s(&format!(":{}", i64::MAX)).resolve(u64::MAX).is_ok());
    }
}
