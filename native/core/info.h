// What the native core was built with and runs on.
#pragma once
#include <string>

namespace ack {

struct BuildInfo {
  std::string fftwVersion;
  std::string openblasConfig;
  std::string openblasCore;
  std::string simd;
  int ompMaxThreads;
  int hardwareThreads;
  std::string compiler;
};

BuildInfo build_info();

}  // namespace ack
