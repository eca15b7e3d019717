// onegrid: the command-line entry point. Each subcommand lives in its own cmd_*.cpp file and
// registers itself in cli::commands(); this file only dispatches and turns every error into one
// clear line on stderr and a non-zero exit status.

#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"

namespace {
void print_usage() {
    std::cout << "usage: onegrid <command> [options]\n\ncommands:\n";
    for (const auto& c : onegrid::cli::commands()) {
        std::cout << "  " << c.name << std::string(16 - std::min<std::size_t>(15, std::string(c.name).size()), ' ')
                  << c.summary << "\n";
    }
    std::cout << "\nRun 'onegrid <command> --help' for the options of a command.\n";
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" || std::string(argv[1]) == "help") {
        print_usage();
        return argc < 2 ? 2 : 0;
    }
    const std::string name = argv[1];
    const std::vector<std::string> args(argv + 2, argv + argc);
    for (const auto& c : onegrid::cli::commands()) {
        if (name != c.name) continue;
        try {
            return c.run(args);
        } catch (const onegrid::cli::usage_error& e) {
            std::cerr << "onegrid " << name << ": " << e.what() << " (see 'onegrid " << name << " --help')\n";
            return 2;
        } catch (const std::exception& e) {
            std::cerr << "onegrid " << name << ": error: " << e.what() << "\n";
            return 1;
        }
    }
    std::cerr << "onegrid: unknown command '" << name << "' (see 'onegrid --help')\n";
    return 2;
}
