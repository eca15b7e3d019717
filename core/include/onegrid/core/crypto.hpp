#pragma once
/// @file
/// Content hashes and secrets (libsodium).

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace onegrid::core {

/// Lowercase hex SHA-256.
[[nodiscard]] std::string sha256_hex(std::span<const std::byte> data);
[[nodiscard]] std::string sha256_hex(std::string_view data);
/// A new random secret: 32 random bytes, URL-safe base64 without padding, prefixed `og_`.
[[nodiscard]] std::string new_token_secret();
/// Constant-time comparison of two equal-length strings.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace onegrid::core
