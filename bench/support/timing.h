// Clocks for benchmarks: wall time (steady_clock) and the calling thread's CPU time.
// A one-core figure divides work by the thread's CPU time (user + system), as `openssl speed`
// divides by CPU time, so the figure and its limit stay comparable on a loaded machine where
// wall time includes the time other processes held the core.
#pragma once

#include <time.h>

#include <chrono>

namespace spinel::bench {

inline double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

inline double ProcessCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// Microseconds between two WallSeconds() readings.
inline double Micros(double from, double to) { return (to - from) * 1e6; }

}  // namespace spinel::bench
