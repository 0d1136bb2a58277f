// Metrics: counters, gauges and histograms rendered in the Prometheus text exposition format
// (served at /metrics). Series are identified by name plus a label set. Gauges may also be
// computed at scrape time through callbacks (entries, agents, CA expiry).
// Thread-safe; updates are a mutex-protected map lookup (cheap next to a signature).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/mutex.h"

namespace spinel::server {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  // Declares a metric so it is rendered with HELP/TYPE even before it has a value.
  void Describe(const std::string& name, const std::string& type, const std::string& help);

  void Increment(const std::string& name, const MetricLabels& labels = {}, double by = 1);
  void Set(const std::string& name, const MetricLabels& labels, double value);
  // Records `value` into a histogram with the buckets given at Describe time (seconds).
  void Observe(const std::string& name, const MetricLabels& labels, double value);
  void DescribeHistogram(const std::string& name, const std::string& help,
                         std::vector<double> buckets);

  // A gauge family computed at scrape time: the callback returns (labels, value) pairs.
  using GaugeCallback = std::function<std::vector<std::pair<MetricLabels, double>>()>;
  void AddGaugeCallback(const std::string& name, const std::string& help, GaugeCallback callback);

  // The Prometheus text format of every metric.
  std::string Render() const;
  // The value of a counter or gauge series, 0 when absent (for tests and health).
  double Value(const std::string& name, const MetricLabels& labels = {}) const;

 private:
  struct Histogram {
    std::vector<double> counts;  // one per bucket, cumulative at render time
    double sum = 0;
    uint64_t count = 0;
  };
  struct Family {
    std::string type;
    std::string help;
    std::vector<double> buckets;
    std::map<std::string, double> values;         // by rendered label set
    std::map<std::string, Histogram> histograms;  // by rendered label set
    GaugeCallback callback;
  };

  mutable common::Mutex mutex_;
  std::map<std::string, Family> families_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace spinel::server
