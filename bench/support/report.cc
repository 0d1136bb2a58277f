#include "bench/support/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace spinel::bench {

double Samples::Percentile(double p) const {
  if (values_.empty()) return 0;
  std::vector<double> sorted = values_;
  std::sort(sorted.begin(), sorted.end());
  const double rank = std::ceil(std::clamp(p, 0.0, 100.0) / 100.0 * sorted.size());
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

double Samples::Min() const {
  return values_.empty() ? 0 : *std::min_element(values_.begin(), values_.end());
}

double Samples::Max() const {
  return values_.empty() ? 0 : *std::max_element(values_.begin(), values_.end());
}

double Samples::Mean() const {
  if (values_.empty()) return 0;
  return std::accumulate(values_.begin(), values_.end(), 0.0) / values_.size();
}

void Report::Add(const Figure& figure) {
  nlohmann::json line = {{"bench", bench_},
                         {"figure", figure.name},
                         {"value", figure.value},
                         {"unit", figure.unit},
                         {"params", figure.params}};
  std::string ratio_text;
  if (figure.limit && *figure.limit > 0) {
    const double ratio = figure.value / *figure.limit;
    line["limit"] = *figure.limit;
    line["ratio"] = ratio;
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "  (%.0f%% of limit %.1f)", ratio * 100, *figure.limit);
    ratio_text = buffer;
  }
  if (!figure.goal.empty()) line["goal"] = figure.goal;
  std::printf("%s\n", line.dump().c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "%-16s %-40s %14.2f %-8s%s\n", bench_.c_str(), figure.name.c_str(),
               figure.value, figure.unit.c_str(), ratio_text.c_str());
}

}  // namespace spinel::bench
