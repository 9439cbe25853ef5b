"""Exception classes raised by flacarray_rs.

flacarray 0.4.1 raises ``RuntimeError`` for some bad arguments and ``ValueError``
for others.  Every error raised by this package derives from *both*, so code written
for 0.4.1 catches it whichever type it expected.
"""


class FlacArrayError(ValueError, RuntimeError):
    """Bad argument or data that cannot be compressed (NaN, inf, overflow, ...)."""


class FlacArrayIndexError(FlacArrayError, IndexError):
    """An index, slice or sample range that does not address the array."""


class CorruptDataError(FlacArrayError):
    """Stored bytes or tables that are inconsistent, truncated or do not decode."""


__all__ = ["FlacArrayError", "FlacArrayIndexError", "CorruptDataError"]
