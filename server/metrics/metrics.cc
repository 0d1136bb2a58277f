#include "server/metrics/metrics.h"

#include <cmath>
#include <sstream>

#include "common/strings.h"

namespace spinel::server {
namespace {

std::string EscapeLabel(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string RenderLabels(const MetricLabels& labels, const std::string& extra = "") {
  std::string out;
  for (const auto& [key, value] : labels) {
    out += out.empty() ? "{" : ",";
    out += common::StrCat(key, "=\"", EscapeLabel(value), "\"");
  }
  if (!extra.empty()) out += out.empty() ? "{" + extra : "," + extra;
  if (!out.empty()) out += "}";
  return out;
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

// Inserts `extra` (e.g. le="0.1") into an already rendered label set.
std::string WithExtra(const std::string& rendered, const std::string& extra) {
  if (rendered.empty()) return "{" + extra + "}";
  return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}

}  // namespace

void Metrics::Describe(const std::string& name, const std::string& type, const std::string& help) {
  common::MutexLock lock(mutex_);
  Family& family = families_[name];
  family.type = type;
  family.help = help;
}

void Metrics::DescribeHistogram(const std::string& name, const std::string& help,
                                std::vector<double> buckets) {
  common::MutexLock lock(mutex_);
  Family& family = families_[name];
  family.type = "histogram";
  family.help = help;
  family.buckets = std::move(buckets);
}

void Metrics::Increment(const std::string& name, const MetricLabels& labels, double by) {
  common::MutexLock lock(mutex_);
  Family& family = families_[name];
  if (family.type.empty()) family.type = "counter";
  family.values[RenderLabels(labels)] += by;
}

void Metrics::Set(const std::string& name, const MetricLabels& labels, double value) {
  common::MutexLock lock(mutex_);
  Family& family = families_[name];
  if (family.type.empty()) family.type = "gauge";
  family.values[RenderLabels(labels)] = value;
}

void Metrics::Observe(const std::string& name, const MetricLabels& labels, double value) {
  common::MutexLock lock(mutex_);
  Family& family = families_[name];
  Histogram& h = family.histograms[RenderLabels(labels)];
  if (h.counts.size() != family.buckets.size()) h.counts.assign(family.buckets.size(), 0);
  for (size_t i = 0; i < family.buckets.size(); ++i) {
    if (value <= family.buckets[i]) ++h.counts[i];
  }
  h.sum += value;
  ++h.count;
}

void Metrics::AddGaugeCallback(const std::string& name, const std::string& help,
                               GaugeCallback callback) {
  common::MutexLock lock(mutex_);
  Family& family = families_[name];
  family.type = "gauge";
  family.help = help;
  family.callback = std::move(callback);
}

std::string Metrics::Render() const {
  common::MutexLock lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    if (!family.help.empty()) out += common::StrCat("# HELP ", name, " ", family.help, "\n");
    out += common::StrCat("# TYPE ", name, " ", family.type, "\n");
    for (const auto& [labels, value] : family.values) {
      out += common::StrCat(name, labels, " ", Number(value), "\n");
    }
    if (family.callback) {
      for (const auto& [labels, value] : family.callback()) {
        out += common::StrCat(name, RenderLabels(labels), " ", Number(value), "\n");
      }
    }
    for (const auto& [labels, h] : family.histograms) {
      for (size_t i = 0; i < family.buckets.size(); ++i) {
        out += common::StrCat(name, "_bucket",
                              WithExtra(labels, "le=\"" + Number(family.buckets[i]) + "\""), " ",
                              Number(h.counts[i]), "\n");
      }
      out += common::StrCat(name, "_bucket", WithExtra(labels, "le=\"+Inf\""), " ",
                            std::to_string(h.count), "\n");
      out += common::StrCat(name, "_sum", labels, " ", Number(h.sum), "\n");
      out += common::StrCat(name, "_count", labels, " ", std::to_string(h.count), "\n");
    }
  }
  return out;
}

double Metrics::Value(const std::string& name, const MetricLabels& labels) const {
  common::MutexLock lock(mutex_);
  auto family = families_.find(name);
  if (family == families_.end()) return 0;
  auto value = family->second.values.find(RenderLabels(labels));
  return value == family->second.values.end() ? 0 : value->second;
}

}  // namespace spinel::server
