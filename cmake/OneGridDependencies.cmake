# System libraries (Debian 12 packages; scripts/install-deps.sh installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(GDAL CONFIG REQUIRED)
find_package(GEOS CONFIG REQUIRED)
find_package(PROJ CONFIG REQUIRED)
pkg_check_modules(SPATIALITE REQUIRED IMPORTED_TARGET spatialite sqlite3)
find_package(nlohmann_json 3.10 REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
