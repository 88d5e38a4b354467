# The native core's sources: every native/*.cc except the Node-facing ones
# (bridge*.cc, addon.cc), so a new file in native/ joins the core without
# editing a build file. Included by the top-level and the fuzz CMakeLists.
file(GLOB IOREACTOR_CORE_SOURCES CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/*.cc")
list(FILTER IOREACTOR_CORE_SOURCES EXCLUDE REGEX "/native/(bridge[^/]*|addon)\\.cc$")
