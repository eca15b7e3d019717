#pragma once
/// @file
/// Exceptions thrown by the spatial module. Each message names what, which feature or field, and why.

#include <stdexcept>
#include <string>

namespace onegrid::spatial {

/// A data source could not be opened or read (missing file, unknown format, no such layer).
struct source_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Input data is readable but wrong (invalid polygon, duplicate id, overlapping grids, bad CRS).
struct data_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A coordinate is not usable (NaN, infinite, out of range for its system).
struct coordinate_error : public std::range_error {
    using std::range_error::range_error;
};

/// A coordinate reference system is unknown or a transformation failed.
struct crs_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace onegrid::spatial
