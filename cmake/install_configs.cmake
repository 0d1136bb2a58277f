# Run at install time (from install(CODE) in cmake/install.cmake) for one component: writes
# the example config and the systemd unit with the paths of the prefix being installed to, and
# (server) the shipped zone files. Inputs: SPINEL_COMPONENT (server|agent), SPINEL_SOURCE_DIR,
# SPINEL_BINARY_DIR, and CMAKE_INSTALL_PREFIX / DESTDIR as `cmake --install` or CPack set them.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(SPINEL_ETC_DIR /etc/spinel)
else()
  set(SPINEL_ETC_DIR ${CMAKE_INSTALL_PREFIX}/etc/spinel)
endif()
set(SPINEL_BIN_DIR ${CMAKE_INSTALL_PREFIX}/bin)
set(staging ${SPINEL_BINARY_DIR}/packaging/install/${SPINEL_COMPONENT})
file(REMOVE_RECURSE ${staging})
configure_file(${SPINEL_SOURCE_DIR}/packaging/etc/${SPINEL_COMPONENT}.yaml.in
               ${staging}/${SPINEL_COMPONENT}.yaml @ONLY)
configure_file(${SPINEL_SOURCE_DIR}/packaging/systemd/spinel-${SPINEL_COMPONENT}.service.in
               ${staging}/spinel-${SPINEL_COMPONENT}.service @ONLY)
# file(INSTALL) applies DESTDIR itself and records the files in the install manifest.
file(INSTALL ${staging}/${SPINEL_COMPONENT}.yaml DESTINATION ${SPINEL_ETC_DIR}
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(INSTALL ${staging}/spinel-${SPINEL_COMPONENT}.service
     DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/systemd/system
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
if(SPINEL_COMPONENT STREQUAL "server")
  file(GLOB zones ${SPINEL_SOURCE_DIR}/trust-zones/zones/*.yaml
       ${SPINEL_SOURCE_DIR}/trust-zones/zones/*.jwks.json)
  file(INSTALL ${zones} DESTINATION ${SPINEL_ETC_DIR}/zones
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
