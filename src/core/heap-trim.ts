/**
 * Keeps the C heap from being handed back to the kernel after every garbage collection.
 *
 * Why: batches of columns and encoded batches are ArrayBuffers, whose memory comes from malloc. glibc
 * gives the top of its heap back to the kernel as soon as more than M_TRIM_THRESHOLD is free there
 * (128 KB by default). A pipeline frees a few megabytes of batches at each scavenge and allocates them
 * again right after, so without this every window paid for shrinking and regrowing the heap (brk calls)
 * and for faulting the same pages in again: on the case study, ~20 brk calls and ~12 ms of every 60 ms
 * window until something long-lived happened to land at the heap's top (2026-12-04).
 *
 * glibc raises both thresholds on its own once it frees a block it had mapped (mallopt(3), "dynamic mmap
 * threshold"): blocks up to that block's size come from the heap from then on, and the heap keeps up to
 * twice that much free at its top. So one buffer of PRIME_BYTES, allocated and dropped, raises them when the
 * first scavenge frees it. It is never written (calloc maps it untouched): it costs no resident memory.
 * Other allocators ignore it.
 */
const PRIME_BYTES = 16 * 1024 * 1024; // under glibc's cap on the dynamic threshold (32 MB on 64 bits)

let primed = false;

/** Once per process (the thresholds are the process's, whatever thread frees the block). */
export function raiseHeapTrimThreshold(): void {
  if (primed) return;
  primed = true;
  void new ArrayBuffer(PRIME_BYTES);
}
