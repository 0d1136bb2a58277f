// Error-propagation helpers for absl::Status / absl::StatusOr (abseil 20220623 ships no
// status_macros.h). Spinel returns errors as values and throws nothing across modules.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SPINEL_CONCAT_INNER_(a, b) a##b
#define SPINEL_CONCAT_(a, b) SPINEL_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the enclosing function when it is not OK.
#define SPINEL_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status spinel_status_ = (expr);          \
    if (!spinel_status_.ok()) return spinel_status_; \
  } while (0)

// Evaluates `rexpr` (a StatusOr); returns its status when not OK, else moves the value into
// `lhs` (which may be a declaration, e.g. `auto key`).
#define SPINEL_ASSIGN_OR_RETURN(lhs, rexpr) \
  SPINEL_ASSIGN_OR_RETURN_IMPL_(SPINEL_CONCAT_(spinel_statusor_, __LINE__), lhs, rexpr)

#define SPINEL_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  if (!statusor.ok()) return statusor.status();             \
  lhs = std::move(statusor).value()
