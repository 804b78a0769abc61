//! The machine's memory, and the check that a block fits in it before it is allocated.
//!
//! A block is allocated only where an operation needs all of it at once (`compute`, a map
//! to another element type, a block a structural operation writes, a random normal or
//! integer block, …): those places call [`check_block`] first, so a chunk shape whose one
//! block needs more memory than the machine has is [`Error::BlockMemory`], not an abort of
//! the process by the allocator. Fused reductions (`sum`, `mean`, `var`, `(x * 2.0 + 1.0).sum()`
//! over memory maps and uniform random arrays) read a block in pieces and never allocate it:
//! they do not check, and work on blocks of any size.
//!
//! The machine's memory is read once: the smaller of `MemTotal` in `/proc/meminfo` and the
//! control group's `memory.max`, or `DAGR_MEMORY_BYTES` when set (a container's share, or a
//! test's). Where none can be read, blocks are not checked.

use crate::Error;
use dagr_runtime::TaskError;
use std::sync::OnceLock;

/// The bytes of memory blocks are checked against, read once.
pub(crate) fn machine_memory() -> u64 {
    static MEMORY: OnceLock<u64> = OnceLock::new();
    *MEMORY.get_or_init(|| {
        if let Some(bytes) = std::env::var("DAGR_MEMORY_BYTES")
            .ok()
            .and_then(|v| v.trim().parse().ok())
        {
            return bytes;
        }
        let total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| mem_total(&m))
            .unwrap_or(u64::MAX);
        let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
            .ok()
            .and_then(|m| m.trim().parse::<u64>().ok())
            .unwrap_or(u64::MAX);
        total.min(cgroup)
    })
}

/// `MemTotal` of a `/proc/meminfo` text, in bytes.
fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// [`Error::BlockMemory`] if a block of `shape` of `T` needs more bytes than `memory`.
fn check_against<T>(what: &'static str, shape: &[usize], memory: u64) -> Result<(), Error> {
    let elements = shape
        .iter()
        .try_fold(1u128, |n, &d| n.checked_mul(d as u128))
        .unwrap_or(u128::MAX);
    let bytes = elements.saturating_mul(std::mem::size_of::<T>() as u128);
    if bytes <= memory as u128 {
        return Ok(());
    }
    Err(Error::BlockMemory {
        what,
        shape: shape.to_vec(),
        dtype: std::any::type_name::<T>(),
        bytes: u64::try_from(bytes).unwrap_or(u64::MAX),
        memory,
    })
}

/// Checks, before it is allocated, that a block of `shape` of `T` fits in the machine's
/// memory.
pub(crate) fn check_block<T>(shape: &[usize]) -> Result<(), Error> {
    check_against::<T>("a block", shape, machine_memory())
}

/// Checks, before anything is computed, that a whole array of `shape` of `T` fits.
pub(crate) fn check_array<T>(shape: &[usize]) -> Result<(), Error> {
    check_against::<T>("the array", shape, machine_memory())
}

/// [`check_block`] for a task.
pub(crate) fn check_task_block<T>(shape: &[usize]) -> Result<(), TaskError> {
    check_block::<T>(shape).map_err(TaskError::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_total_is_read_in_bytes() {
        let m = "MemTotal:       24576000 kB\nMemFree:  1 kB\n";
        assert_eq!(mem_total(m), Some(24576000 * 1024));
        assert_eq!(mem_total("nothing"), None);
        assert!(machine_memory() > 0);
    }

    #[test]
    fn a_block_is_checked_in_bytes_without_overflow() {
        assert!(check_against::<f64>("a block", &[1000, 1000], 8_000_000).is_ok());
        let e = check_against::<f64>("a block", &[1000, 1001], 8_000_000).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("[1000, 1001]") && m.contains("8008000"), "{m}");
        assert!(check_against::<u8>("a block", &[usize::MAX, usize::MAX], u64::MAX).is_err());
        assert!(check_against::<u8>("a block", &[0, usize::MAX], 0).is_ok());
    }
}
