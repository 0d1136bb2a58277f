#include "server/ca/authority_slot.h"

namespace spinel::server {

std::string_view SlotStateName(SlotState state) {
  switch (state) {
    case SlotState::kPrepared:
      return "prepared";
    case SlotState::kActive:
      return "active";
    case SlotState::kOld:
      return "old";
  }
  return "unknown";
}

std::optional<SlotState> SlotStateFromName(std::string_view name) {
  if (name == "prepared") return SlotState::kPrepared;
  if (name == "active") return SlotState::kActive;
  if (name == "old") return SlotState::kOld;
  return std::nullopt;
}

}  // namespace spinel::server
