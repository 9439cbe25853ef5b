//! `flacarray::npy`: headers, hostile shapes, all types, byte orders, Fortran order,
//! booleans, row reads and slab writes.
#![allow(clippy::unwrap_used)]

use flacarray::npy::{create_file, header, read_array, read_bool, read_rows, write_slab_at};
use flacarray::{DType, DecodedArray};
use ndarray::{ArrayD, IxDyn};

#[test]
fn header_is_aligned_and_parsable() {
    let h = header(DType::Float32, &[3, 4]).expect("header");
    assert_eq!(h.len() % 64, 0);
    assert_eq!(h.last(), Some(&b'\n'));
    let parsed = npyz::NpyHeader::from_reader(&h[..]).expect("parses");
    assert_eq!(parsed.shape(), &[3, 4]);
    assert_eq!(parsed.dtype().descr(), "'<f4'");
    let h1 = header(DType::Int64, &[7]).expect("header");
    let parsed = npyz::NpyHeader::from_reader(&h1[..]).expect("parses");
    assert_eq!(parsed.shape(), &[7]);
    // numpy's limit of 64 dimensions (npyz cannot write thousands).
    assert!(header(DType::Float64, &[1; 64]).is_ok());
    let e = header(DType::Float64, &[1; 65]).expect_err("too many");
    assert!(format!("{e:#}").contains("65 dimensions"), "{e:#}");
}

#[test]
fn hostile_shapes_are_refused_before_allocating() {
    let dir = tempfile::tempdir().expect("dir");
    for (shape, name) in [
        ("(18446744073709551615, 2)", "huge.npy"),
        ("(4, 1099511627776)", "tera.npy"),
    ] {
        let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
        let mut h = b"\x93NUMPY\x01\x00".to_vec();
        let body = format!("{dict:<117}\n");
        h.extend_from_slice(&u16::try_from(body.len()).expect("short").to_le_bytes());
        h.extend_from_slice(body.as_bytes());
        h.extend_from_slice(&[0u8; 64]);
        let p = dir.path().join(name);
        std::fs::write(&p, &h).expect("write");
        let e = read_array(&p).expect_err("refused");
        assert!(
            format!("{e:#}").contains("shorter than its header says"),
            "{e:#}"
        );
        let e = read_rows(&p, 0..1).expect_err("refused");
        assert!(
            format!("{e:#}").contains("shorter than its header says"),
            "{e:#}"
        );
        let e = flacarray::npy::peek(&p).expect_err("refused");
        assert!(format!("{e:#}").contains(name), "{e:#}");
    }
    let dict = "{'descr': '|b1', 'fortran_order': False, 'shape': (4, 1099511627776), }";
    let body = format!("{dict:<117}\n");
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    h.extend_from_slice(&u16::try_from(body.len()).expect("short").to_le_bytes());
    h.extend_from_slice(body.as_bytes());
    let p = dir.path().join("mask.npy");
    std::fs::write(&p, &h).expect("write");
    let e = read_bool(&p).expect_err("refused");
    assert!(
        format!("{e:#}").contains("shorter than its header says"),
        "{e:#}"
    );
}

#[test]
fn round_trip_all_types() {
    let dir = tempfile::tempdir().expect("dir");
    let p = dir.path().join("a.npy");
    let a = ArrayD::from_shape_fn(IxDyn(&[2, 3, 4]), |i| {
        (i[0] * 100 + i[1] * 10 + i[2]) as i64 - 50
    });
    for arr in [
        DecodedArray::Int32(a.mapv(|v| v as i32)),
        DecodedArray::Int64(a.mapv(|v| v * 1_000_000_000_000)),
        DecodedArray::Float32(a.mapv(|v| v as f32 * 0.25)),
        DecodedArray::Float64(a.mapv(|v| v as f64 * 1e-3)),
    ] {
        write_file(&p, &arr).expect("write");
        assert_eq!(read_array(&p).expect("read"), arr);
    }
}

#[test]
fn reads_fortran_order_and_big_endian_and_bools() {
    let dir = tempfile::tempdir().expect("dir");
    let p = dir.path().join("f.npy");
    // A (2, 3) big-endian Fortran-order int32 array [[0,1,2],[3,4,5]].
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let mut dict = "{'descr': '>i4', 'fortran_order': True, 'shape': (2, 3), }".to_string();
    while !(10 + dict.len() + 1).is_multiple_of(64) {
        dict.push(' ');
    }
    dict.push('\n');
    bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    bytes.extend_from_slice(dict.as_bytes());
    for v in [0_i32, 3, 1, 4, 2, 5] {
        bytes.extend_from_slice(&v.to_be_bytes());
    }
    std::fs::write(&p, bytes).expect("write");
    let got = read_array(&p).expect("read");
    assert_eq!(
        flacarray::npy::peek(&p).expect("header"),
        (DType::Int32.into(), vec![2, 3])
    );
    let want = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![0, 1, 2, 3, 4, 5]).expect("shape");
    assert_eq!(got, DecodedArray::Int32(want));

    let q = dir.path().join("b.npy");
    npyz::to_file_1d(&q, [true, false, true]).expect("write bools");
    assert_eq!(
        read_bool(&q).expect("read").into_raw_vec_and_offset().0,
        vec![true, false, true]
    );
    let e = read_array(&q).expect_err("bool is not a data dtype");
    assert!(format!("{e:#}").contains("b.npy"), "{e:#}");
}

#[test]
fn big_endian_rows_are_read_by_npyz_after_a_seek() {
    let dir = tempfile::tempdir().expect("dir");
    let p = dir.path().join("be.npy");
    // A (3, 2) big-endian C-order float64 array [[0, 1], [2, 3], [4, 5]] * 0.5.
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let dict = format!(
        "{:<117}\n",
        "{'descr': '>f8', 'fortran_order': False, 'shape': (3, 2), }"
    );
    bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    bytes.extend_from_slice(dict.as_bytes());
    for v in 0..6 {
        bytes.extend_from_slice(&(f64::from(v) * 0.5).to_be_bytes());
    }
    std::fs::write(&p, bytes).expect("write");
    let want = |rows: &[f64]| {
        let n = rows.len() / 2;
        DecodedArray::Float64(ArrayD::from_shape_vec(IxDyn(&[n, 2]), rows.to_vec()).expect("shape"))
    };
    assert_eq!(
        read_rows(&p, 1..3).expect("rows"),
        want(&[1.0, 1.5, 2.0, 2.5])
    );
    assert_eq!(read_rows(&p, 0..1).expect("rows"), want(&[0.0, 0.5]));
    assert_eq!(
        read_array(&p).expect("all"),
        want(&[0.0, 0.5, 1.0, 1.5, 2.0, 2.5])
    );
}

#[test]
fn rows_and_slabs() {
    let dir = tempfile::tempdir().expect("dir");
    let p = dir.path().join("r.npy");
    let a = ArrayD::from_shape_fn(IxDyn(&[5, 2, 3]), |i| {
        (i[0] * 100 + i[1] * 10 + i[2]) as f32
    });
    write_file(&p, &DecodedArray::Float32(a.clone())).expect("write");
    for (lo, hi) in [(0, 5), (1, 3), (4, 5), (2, 2)] {
        let got = read_rows(&p, lo..hi).expect("rows");
        let want = a.slice_axis(ndarray::Axis(0), ndarray::Slice::from(lo..hi));
        assert_eq!(got, DecodedArray::Float32(want.to_owned()), "{lo}..{hi}");
    }
    // Into the memory of an earlier block: larger, smaller, empty or of another type,
    // the rows read are exactly the file's.
    use flacarray::LogicalArray;
    use flacarray::npy::read_values_rows_into;
    let spares = [
        None,
        Some(LogicalArray::Float32(ArrayD::from_elem(
            IxDyn(&[9, 2, 3]),
            -7.0,
        ))),
        Some(LogicalArray::Float32(ArrayD::from_elem(
            IxDyn(&[1, 1, 1]),
            -7.0,
        ))),
        Some(LogicalArray::Float32(ArrayD::zeros(IxDyn(&[0, 2, 3])))),
        Some(LogicalArray::Int64(ArrayD::from_elem(IxDyn(&[5, 2, 3]), 9))),
    ];
    for spare in spares {
        for (lo, hi) in [(0, 5), (1, 3), (2, 2)] {
            let got = read_values_rows_into(&p, lo..hi, spare.clone()).expect("rows");
            let want = a.slice_axis(ndarray::Axis(0), ndarray::Slice::from(lo..hi));
            assert_eq!(
                got,
                LogicalArray::Float32(want.to_owned()),
                "{lo}..{hi} {spare:?}"
            );
        }
    }
    let e = read_rows(&p, 4..6).expect_err("past the end");
    assert!(format!("{e:#}").contains("outside the 5 rows"), "{e:#}");
    // A truncated file is refused before any row is read.
    let t = dir.path().join("t.npy");
    let bytes = std::fs::read(&p).expect("read");
    std::fs::write(&t, &bytes[..bytes.len() - 1]).expect("write");
    let e = read_rows(&t, 0..1).expect_err("truncated");
    assert!(format!("{e:#}").contains("shorter"), "{e:#}");
    // 1-d: the whole array is the one row.
    let one = DecodedArray::Int64(
        ArrayD::from_shape_vec(IxDyn(&[4]), vec![1, -2, 3, -4]).expect("shape"),
    );
    write_file(&p, &one).expect("write");
    assert_eq!(read_rows(&p, 0..1).expect("row"), one);

    // Slabs written at their offsets make the whole file.
    let h = header(DType::Float32, &[5, 2, 3]).expect("header");
    std::fs::write(&t, &h).expect("header");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&t)
        .expect("open")
        .set_len(h.len() as u64 + 5 * 6 * 4)
        .expect("size");
    for (lo, hi) in [(3, 5), (0, 3)] {
        let slab = a
            .slice_axis(ndarray::Axis(0), ndarray::Slice::from(lo..hi))
            .to_owned();
        write_slab_at(
            &t,
            (h.len() + lo * 6 * 4) as u64,
            &DecodedArray::Float32(slab),
        )
        .expect("slab");
    }
    assert_eq!(read_array(&t).expect("read"), DecodedArray::Float32(a));
}

/// Writes `arr` to `path`, replacing the file.
fn write_file(path: &std::path::Path, arr: &DecodedArray) -> flacarray::npy::Result<()> {
    if path.exists() {
        std::fs::remove_file(path).expect("remove");
    }
    create_file(path, arr).map(drop)
}

/// Every one of the twelve element types round-trips through an `.npy` file with
/// numpy's type string, extremes included; the four-type readers refuse the others.
#[test]
fn twelve_types_round_trip_with_numpy_descr() {
    use flacarray::npy::{descr, itemsize, peek, read_values, read_values_rows};
    use flacarray::{LogicalArray, LogicalDType, f16};
    let dir = tempfile::tempdir().expect("dir");
    let p = dir.path().join("v.npy");
    let shape = IxDyn(&[3, 4]);
    let k = |i: &IxDyn| (i[0] * 4 + i[1]) as u64;
    let arrays = [
        LogicalArray::Bool(ArrayD::from_shape_fn(shape.clone(), |i| k(&i) % 3 == 0)),
        LogicalArray::Int8(ArrayD::from_shape_fn(shape.clone(), |i| {
            [i8::MIN, 0, i8::MAX][i[1] % 3]
        })),
        LogicalArray::Int16(ArrayD::from_shape_fn(shape.clone(), |i| {
            [i16::MIN, -1, i16::MAX][i[1] % 3]
        })),
        LogicalArray::Uint8(ArrayD::from_shape_fn(shape.clone(), |i| {
            [0, 1, u8::MAX][i[1] % 3]
        })),
        LogicalArray::Uint16(ArrayD::from_shape_fn(shape.clone(), |i| {
            [0, 7, u16::MAX][i[1] % 3]
        })),
        LogicalArray::Uint32(ArrayD::from_shape_fn(shape.clone(), |i| {
            [0, 9, u32::MAX][i[1] % 3]
        })),
        LogicalArray::Uint64(ArrayD::from_shape_fn(shape.clone(), |i| u64::MAX - k(&i))),
        LogicalArray::Float16(ArrayD::from_shape_fn(shape.clone(), |i| {
            f16::from_f64(k(&i) as f64 - 5.5)
        })),
        LogicalArray::Int32(ArrayD::from_shape_fn(shape.clone(), |i| k(&i) as i32)),
        LogicalArray::Int64(ArrayD::from_shape_fn(shape.clone(), |i| {
            i64::MIN + k(&i) as i64
        })),
        LogicalArray::Float32(ArrayD::from_shape_fn(shape.clone(), |i| k(&i) as f32 * 0.5)),
        LogicalArray::Float64(ArrayD::from_shape_fn(shape.clone(), |i| {
            k(&i) as f64 * 0.25
        })),
    ];
    let descrs = [
        "|b1", "|i1", "<i2", "|u1", "<u2", "<u4", "<u8", "<f2", "<i4", "<i8", "<f4", "<f8",
    ];
    for (a, want) in arrays.iter().zip(descrs) {
        if p.exists() {
            std::fs::remove_file(&p).expect("remove");
        }
        create_file(&p, a).expect("write");
        let t = a.dtype();
        assert_eq!(descr(t), want);
        assert_eq!(
            npyz::NpyFile::new(&std::fs::read(&p).expect("read")[..])
                .expect("npyz")
                .header()
                .dtype()
                .descr(),
            format!("'{want}'")
        );
        assert_eq!(peek(&p).expect("peek"), (t, vec![3, 4]));
        assert_eq!(&read_values(&p).expect("values"), a, "{t}");
        assert_eq!(read_values_rows(&p, 1..2).expect("rows").shape(), &[1, 4]);
        let size = std::fs::metadata(&p).expect("size").len() as usize;
        assert_eq!(
            size,
            header(t, &[3, 4]).expect("header").len() + 12 * itemsize(t)
        );
        let four = read_array(&p);
        assert_eq!(four.is_ok(), t.is_stored(), "{t}");
        if !t.is_stored() {
            assert!(four.unwrap_err().to_string().contains("v.npy"));
        }
        assert_eq!(t, LogicalDType::from_name(t.name()).expect("name"));
    }
}
