//! HDF5 arrays (feature `hdf5`): round trips dagr → file → dagr against ndarray, files
//! written by plain hdf5-metno calls, atomic writes, and every error naming its file and
//! dataset.
#![cfg(feature = "hdf5")]

use dagr::array::{self as da, hdf5};
use dagr::prelude::*;
use ndarray::{ArrayD, IxDyn};
use std::path::{Path, PathBuf};

/// A fresh directory for one test.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dagr-hdf5-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Files of `d` other than `keep` (temporary files left behind).
fn others(d: &Path, keep: &str) -> Vec<String> {
    std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != keep)
        .collect()
}

fn values<T>(shape: &[usize], f: impl Fn(usize) -> T) -> ArrayD<T> {
    let n = shape.iter().product();
    ArrayD::from_shape_vec(IxDyn(shape), (0..n).map(f).collect()).unwrap()
}

/// Writes `a` chunked as `write_chunks`, reads it back chunked as each of `read_chunks`.
fn round_trip<T>(a: &ArrayD<T>, write_chunks: &[usize], read_chunks: &[&[usize]], d: &Path)
where
    T: da::H5Element + std::fmt::Debug + PartialEq,
{
    let path = d.join("x.h5");
    da::from_array(a.clone(), write_chunks)
        .unwrap()
        .to_hdf5(&path, "/foo/bar/xs")
        .unwrap();
    for chunks in read_chunks {
        let x = da::from_hdf5::<T>(&path, "/foo/bar/xs", *chunks).unwrap();
        assert_eq!(x.shape(), a.shape());
        assert_eq!(&x.compute().unwrap(), a, "read with chunks {chunks:?}");
        // one task per block, plus the one assembling the array
        assert_eq!(x.num_tasks(), x.numblocks().iter().product::<usize>() + 1);
    }
    assert!(others(d, "x.h5").is_empty());
}

#[test]
fn round_trips_f64_f32_i64_with_several_chunkings() {
    let d = dir("round-trip");
    let shape = [7, 10, 3];
    let f64s = values(&shape, |i| i as f64 * 0.5 - 3.0);
    let f32s = values(&shape, |i| (i as f32).sqrt());
    let i64s = values(&shape, |i| i as i64 * 1_000_000_007 - 50);
    let reads: &[&[usize]] = &[&[7, 10, 3], &[1, 1, 1], &[3, 4, 2], &[5, 10, 1]];
    for w in [&[7, 10, 3][..], &[2, 3, 3], &[4, 7, 1]] {
        round_trip(&f64s, w, reads, &d);
        round_trip(&f32s, w, reads, &d);
        round_trip(&i64s, w, reads, &d);
    }
    // one and two axes, a block per element
    round_trip(&values(&[13], |i| i as f64), &[5], &[&[13], &[1], &[6]], &d);
    round_trip(
        &values(&[4, 9], |i| i as i64),
        &[1, 2],
        &[&[4, 9], &[3, 3]],
        &d,
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn computed_and_transposed_arrays_are_written_in_order_on_every_scheduler() {
    let d = dir("computed");
    let path = d.join("y.h5");
    let x = da::random::random(&[40, 30], &[15, 7], 3).unwrap();
    let y = (&x.t() * 2.0 + 1.0).slice(da::s![..;2, 1..]).unwrap();
    let want = y.compute().unwrap();
    for s in [
        Scheduler::sync(),
        Scheduler::threads(3),
        Scheduler::default(),
    ] {
        y.to_hdf5_with(&path, "ys", s).unwrap();
        let back = da::from_hdf5::<f64>(&path, "/ys", &[4, 5]).unwrap();
        assert_eq!(back.compute().unwrap(), want);
    }
    // written by dagr, read by plain hdf5 calls
    let f = hdf5::File::open(&path).unwrap();
    assert_eq!(f.dataset("ys").unwrap().read_dyn::<f64>().unwrap(), want);
    drop(f);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn reads_files_written_by_plain_hdf5_calls() {
    let d = dir("plain");
    let path = d.join("plain.h5");
    let a = values(&[6, 8], |i| i as f32 / 4.0);
    let b = values(&[20], |i| i as i64 - 10);
    {
        let f = hdf5::File::create(&path).unwrap();
        let g = f.create_group("grp").unwrap();
        g.new_dataset_builder()
            .with_data(&a)
            .chunk((4, 3))
            .create("a")
            .unwrap();
        f.new_dataset_builder().with_data(&b).create("b").unwrap();
    }
    let x = da::from_hdf5::<f32>(&path, "/grp/a", &[4, 5]).unwrap();
    assert_eq!(x.numblocks(), vec![2, 2]);
    assert_eq!(x.compute().unwrap(), a);
    assert_eq!(x.sum().compute().unwrap(), a.sum());
    let y = da::from_hdf5::<i64>(&path, "b", &[7]).unwrap();
    assert_eq!(y.compute().unwrap(), b);
    assert_eq!((&y * 2).max().compute().unwrap(), 18);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_failed_write_leaves_the_existing_file_and_no_temporary_file() {
    let d = dir("atomic");
    let path = d.join("x.h5");
    let good = values(&[12, 5], |i| i as f64);
    da::from_array(good.clone(), &[4, 5])
        .unwrap()
        .to_hdf5(&path, "/foo/xs")
        .unwrap();
    let before = std::fs::read(&path).unwrap();

    // blocks that compute, then one whose computation fails (a block of the wrong shape)
    let ok = da::ones::<f64>(&[30, 5], &[3, 5]).unwrap();
    let bad =
        da::from_delayed(value(()).map(|_| ArrayD::<f64>::zeros(vec![1, 1])), &[2, 5]).unwrap();
    let failing = da::concatenate(&[ok.clone(), bad, ok], 0).unwrap();
    for s in [Scheduler::sync(), Scheduler::default()] {
        let e = failing.to_hdf5_with(&path, "/foo/xs", s).unwrap_err();
        assert!(e.to_string().contains("shape"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert!(others(&d, "x.h5").is_empty(), "{:?}", others(&d, "x.h5"));
    }
    // an array whose construction failed writes nothing at all
    let a = da::ones::<f64>(&[3], &[3]).unwrap();
    let b = da::ones::<f64>(&[4], &[4]).unwrap();
    assert!((&a + &b).to_hdf5(&path, "/foo/xs").is_err());
    // a bad dataset path is refused before anything is written
    let e = a.to_hdf5(&path, "/").unwrap_err();
    assert!(matches!(e, Error::Hdf5 { .. }), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(others(&d, "x.h5").is_empty());
    assert_eq!(
        da::from_hdf5::<f64>(&path, "/foo/xs", &[5, 5])
            .unwrap()
            .compute()
            .unwrap(),
        good
    );

    // a successful write replaces the file as a whole
    a.to_hdf5(&path, "other").unwrap();
    assert!(da::from_hdf5::<f64>(&path, "/foo/xs", &[5, 5]).is_err());
    assert!(others(&d, "x.h5").is_empty());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn every_error_names_its_file_and_dataset() {
    let d = dir("errors");
    let path = d.join("x.h5");
    let p = path.display().to_string();
    da::arange(0.0, 12.0, 1.0, &[4])
        .unwrap()
        .reshape(&[3, 4])
        .unwrap()
        .to_hdf5(&path, "/foo/xs")
        .unwrap();

    let missing = d.join("missing.h5");
    let e = da::from_hdf5::<f64>(&missing, "/foo/xs", &[2, 2]).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    assert!(e.to_string().contains("missing.h5"), "{e}");

    for name in ["/foo/ys", "/bar/xs", "/foo"] {
        let e = da::from_hdf5::<f64>(&path, name, &[2, 2]).unwrap_err();
        assert!(matches!(e, Error::Hdf5 { .. }), "{e}");
        let msg = e.to_string();
        assert!(msg.contains(&p) && msg.contains(name), "{msg}");
    }

    let e = da::from_hdf5::<f32>(&path, "/foo/xs", &[2, 2]).unwrap_err();
    assert!(matches!(e, Error::Dtype { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains(&p) && msg.contains("/foo/xs") && msg.contains("float64"),
        "{msg}"
    );
    let e = da::from_hdf5::<i64>(&path, "/foo/xs", &[2, 2]).unwrap_err();
    assert!(matches!(e, Error::Dtype { .. }), "{e}");

    for chunks in [vec![vec![2, 2], vec![4]], vec![vec![3]]] {
        let e = da::from_hdf5::<f64>(&path, "/foo/xs", &chunks).unwrap_err();
        assert!(matches!(e, Error::Chunks { .. }), "{e}");
        let msg = e.to_string();
        assert!(msg.contains(&p) && msg.contains("/foo/xs"), "{msg}");
    }

    // not an HDF5 file
    let text = d.join("text.h5");
    std::fs::write(&text, "hello").unwrap();
    let e = da::from_hdf5::<f64>(&text, "/xs", &[2]).unwrap_err();
    assert!(matches!(e, Error::Hdf5 { .. }), "{e}");
    assert!(e.to_string().contains("text.h5"), "{e}");

    // a file that changed under an array: the block's task reports it
    let x = da::from_hdf5::<f64>(&path, "/foo/xs", &[2, 2]).unwrap();
    std::fs::remove_file(&path).unwrap();
    let e = x.compute().unwrap_err();
    assert!(e.to_string().contains(&p), "{e}");

    // writing into a directory that does not exist
    let e = da::ones::<f64>(&[3], &[3])
        .unwrap()
        .to_hdf5(d.join("no/such/dir.h5"), "/xs")
        .unwrap_err();
    assert!(e.to_string().contains("dir.h5"), "{e}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn zero_dimensional_and_empty_arrays() {
    let d = dir("edge");
    let path = d.join("e.h5");
    let empty = ArrayD::<f64>::zeros(vec![0, 4]);
    da::from_array(empty.clone(), &[2, 2])
        .unwrap()
        .to_hdf5(&path, "e")
        .unwrap();
    let back = da::from_hdf5::<f64>(&path, "e", &[3, 3]).unwrap();
    assert_eq!(back.compute().unwrap(), empty);

    let scalar = ArrayD::from_elem(vec![], 2.5_f64);
    da::from_array(scalar.clone(), &[] as &[usize])
        .unwrap()
        .to_hdf5(&path, "s")
        .unwrap();
    let back = da::from_hdf5::<f64>(&path, "s", &[] as &[usize]).unwrap();
    assert_eq!(back.compute().unwrap(), scalar);
    std::fs::remove_dir_all(&d).unwrap();
}
