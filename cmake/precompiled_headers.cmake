# Precompiled headers (included from the top CMakeLists.txt after every target is defined).
#
# Most of a translation unit's compile time is spent parsing the same system headers: the C++
# standard library, abseil, nlohmann JSON, OpenSSL and, for the parts that speak gRPC, gRPC and
# the generated protobuf headers (these alone are half of a gRPC service file's compile time).
# Two header sets are compiled once per build tree and reused by every target of their kind
# (target_precompile_headers REUSE_FROM):
#   spinel_pch_base  the standard library, abseil, nlohmann JSON, OpenSSL: targets that link
#                    spinel_common but not spinel_proto (spinel_common, spinel_zones,
#                    spinel_datastore, their tests);
#   spinel_pch_grpc  the base set, gRPC and every generated *.pb.h / *.grpc.pb.h: targets that
#                    link spinel_proto, directly or through another library (not spinel_proto
#                    itself, which generates those headers).
# The set is given to every file of the target with -include, so a file also sees headers it
# does not include itself; builds without precompiled headers (the fuzz build, or
# -DSPINEL_PRECOMPILE_HEADERS=OFF) still catch a missing #include.
#
# SPINEL_PRECOMPILE_HEADERS defaults to ON, and to OFF when a compiler launcher (ccache) is set:
# ccache does not cache files compiled with a precompiled header unless its sloppiness settings
# allow it, and with ccache a rebuild is cheap anyway.
if(CMAKE_CXX_COMPILER_LAUNCHER)
  set(spinel_pch_default OFF)
else()
  set(spinel_pch_default ON)
endif()
option(SPINEL_PRECOMPILE_HEADERS "Precompile the common system headers (see cmake/precompiled_headers.cmake)"
       ${spinel_pch_default})

set(SPINEL_PCH_BASE_HEADERS
  <algorithm> <atomic> <chrono> <condition_variable> <cstdint> <cstdlib> <cstring> <filesystem>
  <fstream> <functional> <map> <memory> <mutex> <optional> <set> <sstream> <string>
  <string_view> <thread> <utility> <vector>
  <absl/status/status.h> <absl/status/statusor.h> <absl/strings/str_cat.h>
  <absl/strings/string_view.h> <absl/synchronization/mutex.h> <absl/time/time.h>
  <nlohmann/json.hpp>
  <openssl/evp.h> <openssl/x509.h>)

# Targets that link `library`, directly or through other targets of this project.
function(spinel_links_transitively target library result)
  set(${result} FALSE PARENT_SCOPE)
  set(pending ${target})
  set(seen "")
  while(pending)
    list(POP_FRONT pending current)
    # Outside libraries (imported targets) are not followed.
    if(current IN_LIST seen OR NOT TARGET ${current})
      continue()
    endif()
    get_target_property(imported ${current} IMPORTED)
    if(imported)
      continue()
    endif()
    list(APPEND seen ${current})
    get_target_property(links ${current} LINK_LIBRARIES)
    if(links)
      if(library IN_LIST links)
        set(${result} TRUE PARENT_SCOPE)
        return()
      endif()
      list(APPEND pending ${links})
    endif()
  endwhile()
endfunction()

# Every target defined in `dir` and its subdirectories.
function(spinel_targets_under dir result)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdir ${subdirs})
    spinel_targets_under(${subdir} sub_targets)
    list(APPEND targets ${sub_targets})
  endforeach()
  set(${result} ${targets} PARENT_SCOPE)
endfunction()

function(spinel_precompile_headers)
  if(NOT SPINEL_PRECOMPILE_HEADERS)
    return()
  endif()
  set(stub ${PROJECT_BINARY_DIR}/spinel_pch_stub.cc)
  file(CONFIGURE OUTPUT ${stub} CONTENT "// The precompiled header sets' owner (cmake/precompiled_headers.cmake).\n")
  # Linked to what spinel_common links (outside libraries), not to spinel_common itself, which
  # uses this set.
  get_target_property(common_links spinel_common LINK_LIBRARIES)
  add_library(spinel_pch_base OBJECT ${stub})
  target_link_libraries(spinel_pch_base PRIVATE ${common_links})
  target_precompile_headers(spinel_pch_base PRIVATE ${SPINEL_PCH_BASE_HEADERS})

  # The generated headers of spinel_proto (common/proto/CMakeLists.txt), by the .proto names.
  file(GLOB protos CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/common/proto/*.proto)
  set(grpc_headers <grpcpp/grpcpp.h>)
  foreach(proto ${protos})
    get_filename_component(name ${proto} NAME_WE)
    list(APPEND grpc_headers "\"${name}.pb.h\"" "\"${name}.grpc.pb.h\"")
  endforeach()
  add_library(spinel_pch_grpc OBJECT ${stub})
  target_link_libraries(spinel_pch_grpc PRIVATE ${common_links} spinel_proto)
  target_precompile_headers(spinel_pch_grpc PRIVATE ${SPINEL_PCH_BASE_HEADERS} ${grpc_headers})

  spinel_targets_under(${PROJECT_SOURCE_DIR} targets)
  foreach(target ${targets})
    get_target_property(type ${target} TYPE)
    if(NOT type MATCHES "^(STATIC_LIBRARY|OBJECT_LIBRARY|EXECUTABLE)$"
       OR target MATCHES "^spinel_pch_")
      continue()
    endif()
    spinel_links_transitively(${target} spinel_proto speaks_grpc)
    spinel_links_transitively(${target} spinel_common uses_common)
    if(target STREQUAL "spinel_proto")
      continue()  # generates the headers of the gRPC set: compiled without it
    elseif(speaks_grpc)
      target_precompile_headers(${target} REUSE_FROM spinel_pch_grpc)
    elseif(uses_common OR target STREQUAL "spinel_common")
      target_precompile_headers(${target} REUSE_FROM spinel_pch_base)
    endif()
  endforeach()
endfunction()
spinel_precompile_headers()
