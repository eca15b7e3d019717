#include "cli.hpp"

#include <unistd.h>

#include <iostream>

namespace onegrid::cli {

const std::vector<Command>& commands() {
    static const std::vector<Command> list = {
        serve_command(),
        assign_command(),
        import_command(),
        export_command(),
        validate_command(),
        backup_command(),
        check_command(),
        setup_command(),
        plugins_command(),
        token_command(),
        demo_district_command(),
        demo_history_command(),
    };
    return list;
}

bool parse(const std::vector<std::string>& args, po::options_description& options, po::variables_map& vm,
           const char* command, const char* synopsis) {
    options.add_options()("help,h", "show this help");
    try {
        po::store(po::command_line_parser(args).options(options).run(), vm);
        if (vm.count("help") != 0U) {
            std::cout << "usage: onegrid " << command << " " << synopsis << "\n\n" << options << "\n";
            return false;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        throw usage_error(e.what());
    }
    return true;
}

Progress::Progress(std::string label, std::size_t total, bool enabled)
    : m_label(std::move(label)), m_total(total), m_enabled(enabled), m_start(std::chrono::steady_clock::now()),
      m_last(m_start) {}

void Progress::update(std::size_t done) {
    if (!m_enabled) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < m_total && now - m_last < std::chrono::milliseconds(200)) return;
    m_last = now;
    const double frac = m_total > 0 ? static_cast<double>(done) / static_cast<double>(m_total) : 1.0;
    const int width = 40;
    const int filled = static_cast<int>(frac * width);
    const double secs = std::chrono::duration<double>(now - m_start).count();
    std::fprintf(stderr, "\r%s [%.*s%*s] %5.1f%%  %zu/%zu  %.0f/s", m_label.c_str(), filled,
                 "########################################", width - filled, "", frac * 100.0, done, m_total,
                 secs > 0 ? static_cast<double>(done) / secs : 0.0);
    std::fflush(stderr);
}

void Progress::finish() {
    if (!m_enabled) return;
    update(m_total);
    std::fputc('\n', stderr);
}

}  // namespace onegrid::cli
