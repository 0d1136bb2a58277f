# Installation and Debian packaging of spinel-server and spinel-agent (included from the top
# CMakeLists.txt).
#
# `cmake --install BUILD [--prefix P]` installs, for prefix P (default /usr/local):
#   P/bin/spinel-server, P/bin/spinel-agent
#   ETC/server.yaml, ETC/agent.yaml        example configs that work as they are
#   ETC/zones/*.yaml, *.jwks.json          the four shipped trust zones (+ trusted issuer keys)
#   P/lib/systemd/system/spinel-{server,agent}.service   hardened units
#   P/lib/sysusers.d/spinel-{server,agent}.conf          their dedicated users
# where ETC is /etc/spinel when P is /usr (the Debian packages) and P/etc/spinel otherwise.
# The configs and units name those paths; they are written at install time
# (cmake/install_configs.cmake), so --prefix given to `cmake --install` is honoured.
#
# Components: "server" and "agent". `cpack -G DEB` (scripts/package.sh) builds one package per
# component, spinel-server and spinel-agent, installing under /usr with configs in /etc/spinel.
include(GNUInstallDirs)
# Installing (and CPack) does not first build everything (tests included): scripts/package.sh
# builds the two binaries it packages, and `cmake --install` is run after a build.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(TARGETS spinel-server RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
install(TARGETS spinel-agent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT agent)
foreach(component server agent)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/systemd/spinel-${component}.sysusers
          DESTINATION lib/sysusers.d RENAME spinel-${component}.conf COMPONENT ${component})
  install(CODE "set(SPINEL_COMPONENT ${component})
                set(SPINEL_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
                set(SPINEL_BINARY_DIR \"${PROJECT_BINARY_DIR}\")
                include(\"${PROJECT_SOURCE_DIR}/cmake/install_configs.cmake\")"
          COMPONENT ${component})
endforeach()

# ---------------------------------------------------------------- Debian packages (CPack)
file(GLOB SPINEL_SHIPPED_ZONES RELATIVE ${PROJECT_SOURCE_DIR}/trust-zones/zones
     ${PROJECT_SOURCE_DIR}/trust-zones/zones/*.yaml ${PROJECT_SOURCE_DIR}/trust-zones/zones/*.jwks.json)
set(server_conffiles "/etc/spinel/server.yaml")
foreach(zone ${SPINEL_SHIPPED_ZONES})
  string(APPEND server_conffiles "\n/etc/spinel/zones/${zone}")
endforeach()
set(agent_conffiles "/etc/spinel/agent.yaml")
foreach(component server agent)
  set(control_dir ${PROJECT_BINARY_DIR}/packaging/debian/${component})
  set(SPINEL_PACKAGE spinel-${component})
  set(SPINEL_ETC_DIR /etc/spinel)
  set(SPINEL_HOME /var/lib/spinel/${component})
  configure_file(${PROJECT_SOURCE_DIR}/packaging/debian/postinst.in ${control_dir}/postinst @ONLY)
  configure_file(${PROJECT_SOURCE_DIR}/packaging/debian/prerm.in ${control_dir}/prerm @ONLY)
  file(WRITE ${control_dir}/conffiles "${${component}_conffiles}\n")
  string(TOUPPER ${component} upper)
  set(CPACK_DEBIAN_${upper}_PACKAGE_NAME spinel-${component})
  set(CPACK_DEBIAN_${upper}_PACKAGE_CONTROL_EXTRA
      "${control_dir}/postinst;${control_dir}/prerm;${control_dir}/conffiles")
endforeach()

set(CPACK_PACKAGE_NAME spinel)
set(CPACK_PACKAGE_VENDOR "Spinel")
set(CPACK_PACKAGE_CONTACT "Spinel maintainers <spinel-maintainers@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "SPIFFE workload identity and trust zones for AI systems")
string(CONCAT CPACK_COMPONENT_SERVER_DESCRIPTION
    "Spinel server: SPIFFE workload identity issuer and trust-zone manager\n"
    "Mints short-lived X.509 and JWT SVIDs per trust zone (training, inference, retrieval,\n"
    "tool execution), attests node agents, evaluates zone policy with step-up approvals and\n"
    "keeps a hash-chained audit log. Includes the operator CLI and the default zone files.")
string(CONCAT CPACK_COMPONENT_AGENT_DESCRIPTION
    "Spinel agent: SPIFFE Workload API for the AI workloads of a node\n"
    "Attests the node to spinel-server, attests local workloads (uid, gid, executable path\n"
    "and digest, container), serves the standard SPIFFE Workload API on a Unix socket and\n"
    "rotates every SVID before it expires.")
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL server agent)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Install into a staging DESTDIR with CMAKE_INSTALL_PREFIX=/usr, so install_configs.cmake
# sees the real prefix (and writes /etc/spinel paths).
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # the packaged binaries without debug info
include(CPack)
