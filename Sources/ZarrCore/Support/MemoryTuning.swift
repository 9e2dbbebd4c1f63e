import CPlatform

/// Keeps glibc from handing chunk-sized buffers back to the kernel after every use.
///
/// Codecs allocate and free a buffer per chunk (hundreds of KiB to tens of MiB). With
/// glibc's defaults many of those go straight to `mmap`/`munmap` or get trimmed off the
/// heap, so every chunk pays for fresh zeroed pages: a profile of a 1 GiB v2 read showed
/// 38 % of the time in the kernel's `clear_page`. Raising the thresholds lets freed
/// buffers be reused. Call once at process start (the CLI and the benchmark do).
public func tuneAllocatorForChunkBuffers() {
    tessera_tune_allocator()
}
