// Fuzzes selector and duration parsing: no crash; accepted values re-serialise to input that
// parses to the same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/duration.h"
#include "common/selector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto selector = spinel::common::Selector::Parse(input);
  if (selector.ok() && selector->ToString() != input) std::abort();
  auto duration = spinel::common::ParseDuration(input);
  if (duration.ok()) {
    auto again = spinel::common::ParseDuration(spinel::common::FormatDuration(*duration));
    if (!again.ok() || *again != *duration) std::abort();
  }
  return 0;
}
