// FFTW's planner is not thread-safe: every fftwf_plan_* and fftwf_destroy_plan call in the
// core, in every plan cache, holds this one process-wide lock. Executing plans is thread-safe.
#pragma once
#include <mutex>

namespace ack {

std::mutex& fftw_planner_mutex();

}  // namespace ack
