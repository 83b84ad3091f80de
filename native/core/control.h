// Cancellation and progress shared between a running native job and its caller.
// Pure C++: the Node-API layer points `block` at a Float64Array owned by JavaScript
// ([0] cancel flag written by JS, [1] work done, [2] work total, both written here).
#pragma once
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>

namespace ack {

// Thrown when the caller asked a job to stop. Never escapes an OpenMP region (see Guard).
struct Cancelled : std::runtime_error {
  Cancelled() : std::runtime_error("cancelled") {}
};

class Control {
 public:
  Control() = default;
  explicit Control(double* block) : block_(block) {}
  Control(const Control&) = delete;
  Control& operator=(const Control&) = delete;
  void attach(double* block) { block_ = block; }

  bool cancelled() const {
    if (!block_) return false;
    double v;
    __atomic_load(&block_[0], &v, __ATOMIC_RELAXED);
    return v != 0.0;
  }
  void throwIfCancelled() const {
    if (cancelled()) throw Cancelled();
  }
  void setTotal(double total) {
    done_.store(0, std::memory_order_relaxed);
    publish(2, total);
    publish(1, 0.0);
  }
  void advance(int64_t units) {
    int64_t d = done_.fetch_add(units, std::memory_order_relaxed) + units;
    publish(1, static_cast<double>(d));
  }

 private:
  void publish(int idx, double v) {
    if (block_) __atomic_store(&block_[idx], &v, __ATOMIC_RELAXED);
  }
  double* block_ = nullptr;
  std::atomic<int64_t> done_{0};
};

// Collects the first exception thrown inside a parallel region so it can be rethrown
// after the region ends (exceptions must not cross an OpenMP boundary).
class Guard {
 public:
  template <class F>
  void run(F&& f) noexcept {
    if (failed_.load(std::memory_order_relaxed)) return;
    try {
      f();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_) error_ = std::current_exception();
      failed_.store(true, std::memory_order_relaxed);
    }
  }
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  void rethrow() {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  std::exception_ptr error_;
};

}  // namespace ack
