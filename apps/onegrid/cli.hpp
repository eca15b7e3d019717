#pragma once
// Shared plumbing of the onegrid subcommands: option parsing, errors, progress.

#include <boost/program_options.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace onegrid::cli {

namespace po = boost::program_options;

/// A usage error: printed with the command's help hint, exit status 2.
struct usage_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Command {
    const char* name;
    const char* summary;
    std::function<int(const std::vector<std::string>& args)> run;
};

/// The subcommands, in the order `onegrid --help` lists them.
const std::vector<Command>& commands();

Command assign_command();
Command backup_command();
Command check_command();
Command demo_district_command();
Command demo_history_command();
Command import_command();
Command export_command();
Command validate_command();
Command plugins_command();
Command serve_command();
Command setup_command();
Command token_command();

/// Parses `args` against `options`; prints help and returns false for --help.
/// @throws usage_error for unknown or malformed options and missing required ones.
bool parse(const std::vector<std::string>& args, po::options_description& options, po::variables_map& vm,
           const char* command, const char* synopsis);

/// A progress bar on stderr, drawn only when stderr is a terminal or when forced.
class Progress {
public:
    Progress(std::string label, std::size_t total, bool enabled);
    void update(std::size_t done);
    void finish();

private:
    std::string m_label;
    std::size_t m_total;
    bool m_enabled;
    std::chrono::steady_clock::time_point m_start;
    std::chrono::steady_clock::time_point m_last;
};

}  // namespace onegrid::cli
