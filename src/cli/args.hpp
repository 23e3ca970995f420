// A small command-line parser: --name value / --name=value options, flags,
// and positional arguments; unknown options are usage errors (exit 2).
#pragma once

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace clipcaer::cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;
  std::set<std::string> flags;

  bool has(const std::string& name) const { return options.count(name) || flags.count(name); }
  std::string get(const std::string& name, const std::string& fallback = "") const {
    auto it = options.find(name);
    return it == options.end() ? fallback : it->second;
  }
  std::size_t get_size(const std::string& name, std::size_t fallback) const {
    auto it = options.find(name);
    if (it == options.end()) return fallback;
    std::size_t pos = 0;
    unsigned long v = 0;
    try {
      v = std::stoul(it->second, &pos);
    } catch (const std::exception&) {
      pos = 0;
    }
    if (pos == 0 || pos != it->second.size() || it->second[0] == '-')
      throw UsageError("--" + name + " needs a non-negative integer, got '" + it->second + "'");
    return v;
  }
};

// valued: options that take a value; flags: options that do not.
inline Args parse_args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
                       const std::set<std::string>& flags) {
  Args a;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& s = argv[i];
    if (s.size() < 3 || s.compare(0, 2, "--") != 0) {
      if (s.size() > 1 && s[0] == '-' && s != "-") throw UsageError("unknown option '" + s + "'");
      a.positional.push_back(s);
      continue;
    }
    std::string name = s.substr(2), value;
    const auto eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (flags.count(name)) {
      if (inline_value) throw UsageError("--" + name + " takes no value");
      a.flags.insert(name);
    } else if (valued.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) throw UsageError("--" + name + " needs a value");
        value = argv[++i];
      }
      a.options[name] = value;
    } else {
      throw UsageError("unknown option '--" + name + "'");
    }
  }
  return a;
}

}  // namespace clipcaer::cli
