"""Type stubs of the compiled engine module ``flacarray_rs._native``."""

from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

def compress(
    arr: npt.NDArray[Any],
    dtype: str,
    level: int = 5,
    quanta: Optional[Union[float, npt.NDArray[np.float64]]] = None,
    precision: Optional[Union[int, npt.NDArray[np.int32]]] = None,
    threads: Optional[int] = None,
    keep_nonfinite: bool = False,
) -> Tuple[
    npt.NDArray[np.uint8],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    Optional[npt.NDArray[np.floating[Any]]],
    Optional[npt.NDArray[np.floating[Any]]],
    int,
    Optional[npt.NDArray[np.uint8]],
    Optional[npt.NDArray[np.uint8]],
]: ...
def stored_dtype(logical: str) -> str: ...
def nonfinite_select(
    flags: npt.NDArray[np.uint8],
    runs: npt.NDArray[np.uint8],
    stream_size: int,
    leading_shape: Sequence[int],
    float64: bool,
    indices: Sequence[int],
) -> Tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]: ...
def checksum_attr(
    version: int,
    dtype: str,
    leading_shape: Sequence[int],
    stream_size: int,
    total_bytes: int,
    table: int,
    streams: int,
    writer: str,
) -> str: ...
def float_to_int(
    data: npt.NDArray[np.floating[Any]],
    quanta: Optional[Union[float, npt.NDArray[np.float64]]] = None,
    precision: Optional[Union[int, npt.NDArray[np.int32]]] = None,
) -> Tuple[npt.NDArray[np.signedinteger[Any]], npt.NDArray[Any], npt.NDArray[Any]]: ...
def int_to_float(
    idata: npt.NDArray[np.signedinteger[Any]],
    offsets: npt.NDArray[np.floating[Any]],
    gains: npt.NDArray[np.floating[Any]],
    version: int = 1,
) -> npt.NDArray[np.floating[Any]]: ...
def default_threads() -> int: ...

class Engine:
    def __init__(
        self,
        compressed: npt.NDArray[np.uint8],
        stream_size: int,
        starts: npt.NDArray[np.int64],
        nbytes: npt.NDArray[np.int64],
        dtype: str,
        offsets: Optional[npt.NDArray[Any]],
        gains: Optional[npt.NDArray[Any]],
        leading_shape: Sequence[int],
        one_d: bool,
        version: int = 1,
        logical: Optional[str] = None,
        nonfinite_flags: Optional[npt.NDArray[np.uint8]] = None,
        nonfinite_runs: Optional[npt.NDArray[np.uint8]] = None,
    ) -> None: ...
    def checksum_parts(self, first: int, byte_offset: int) -> Tuple[int, int]: ...
    def decompress(
        self,
        keep: Optional[npt.NDArray[np.bool_]] = None,
        first: Optional[int] = None,
        last: Optional[int] = None,
        threads: Optional[int] = None,
    ) -> npt.NDArray[Any]: ...
    def get(self, key: Sequence[Any]) -> npt.NDArray[Any]: ...
    @property
    def nbytes(self) -> int: ...
