// WaitFor: poll a condition with a deadline instead of sleeping a fixed time (tests and
// benchmarks that wait for a child process to become ready). Runs on the calling thread.
#pragma once

#include <chrono>
#include <functional>

namespace spinel::testing {

// Polls `ready` every `interval` until it returns true (true) or `timeout` passes (then one
// last call decides).
bool WaitFor(const std::function<bool()>& ready,
             std::chrono::milliseconds timeout = std::chrono::seconds(60),
             std::chrono::milliseconds interval = std::chrono::milliseconds(50));

}  // namespace spinel::testing
