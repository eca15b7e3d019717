# System libraries (Debian 12 packages; scripts/install-deps.sh installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(GDAL CONFIG REQUIRED)
find_package(GEOS CONFIG REQUIRED)
find_package(PROJ CONFIG REQUIRED)
pkg_check_modules(SPATIALITE REQUIRED IMPORTED_TARGET spatialite sqlite3)
find_package(nlohmann_json 3.10 REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
# The assessment report's XLSX workbooks.
pkg_check_modules(XLSXWRITER REQUIRED IMPORTED_TARGET xlsxwriter)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(ZLIB REQUIRED)
# The programs' allocator: tcmalloc (gperftools) when ONEGRID_TCMALLOC is on. The store's writer
# thread allocates and frees on every write, and callers' requests are freed on other threads;
# with tcmalloc the writer's CPU per durable intake is ~10% lower than with glibc's malloc
# (benchmarks/README.md). Sanitizer builds keep the sanitizer's own allocator.
add_library(onegrid_allocator INTERFACE)
if(ONEGRID_TCMALLOC)
  pkg_check_modules(TCMALLOC REQUIRED IMPORTED_TARGET libtcmalloc_minimal)
  target_link_libraries(onegrid_allocator INTERFACE PkgConfig::TCMALLOC)
endif()
# protozero (MVT encoding) is header-only.
find_path(PROTOZERO_INCLUDE_DIR protozero/pbf_writer.hpp REQUIRED)
add_library(protozero::protozero INTERFACE IMPORTED)
set_target_properties(protozero::protozero PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${PROTOZERO_INCLUDE_DIR}")
