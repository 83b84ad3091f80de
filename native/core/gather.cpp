#include "gather.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "float16.h"
#include "parallel.h"

namespace ack {
namespace {

constexpr size_t kRunBytes = size_t(1) << 20;  // the largest single read

// Items [b, e) of gather_float16; 0, an errno value or −1 (end of file).
int gather_part(int fd, int64_t offset, size_t values, const int32_t* items, int64_t b, int64_t e, float* out) {
  const size_t imageBytes = 2 * values;
  const int64_t maxRun = std::max<int64_t>(1, int64_t(kRunBytes / imageBytes));
  std::vector<uint16_t> bits(size_t(std::min(maxRun, std::max<int64_t>(e - b, 1))) * values);
  for (int64_t s = b; s < e;) {
    int64_t t = s + 1;
    while (t < e && t - s < maxRun && items[t] == items[t - 1] + 1) ++t;
    const size_t want = size_t(t - s) * imageBytes;
    char* dst = reinterpret_cast<char*>(bits.data());
    for (size_t got = 0; got < want;) {
      const ssize_t r = pread(fd, dst + got, want - got, off_t(offset + int64_t(items[s]) * int64_t(imageBytes) + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return errno;
      if (r == 0) return -1;
      got += size_t(r);
    }
    decode_float16(bits.data(), out + size_t(s) * values, size_t(t - s) * values);
    s = t;
  }
  return 0;
}

}  // namespace

int gather_float16(int fd, int64_t offset, size_t values, const int32_t* items, int64_t count, float* out,
                   int threads) {
  const int64_t parts = std::clamp<int64_t>(threads, 1, std::max<int64_t>(count, 1));
  std::vector<int> status(size_t(parts), 0);
  parallel_for(parts, threads, nullptr, [&](int64_t p) {
    status[size_t(p)] = gather_part(fd, offset, values, items, count * p / parts, count * (p + 1) / parts, out);
  });
  for (int s : status)
    if (s != 0) return s;
  return 0;
}

}  // namespace ack
