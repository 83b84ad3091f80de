// Reading chosen images of a float16 image file (the scratch working stack,
// src/pipeline/scratch.ts) straight into float32: pread of each run of consecutive images, then
// the same decoding as decode_float16. Pure C++ and POSIX (no Node headers).
#pragma once
#include <cstddef>
#include <cstdint>

namespace ack {

// Images items[0..count−1] (ascending or not; each in [0, images)) of `values` binary16 values
// each, image i at byte offset + 2·values·i of file descriptor fd, decoded into out (count·values
// floats, in the order of items). Runs of consecutive items are read with one pread each, up to
// ~1 MB; `threads` threads share the items in contiguous parts (the same bits for any number). Returns 0, an errno value of
// the first failed read, or −1 when the file ended early.
int gather_float16(int fd, int64_t offset, size_t values, const int32_t* items, int64_t count, float* out, int threads);

}  // namespace ack
