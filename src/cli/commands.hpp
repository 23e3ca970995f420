// The clipcaer subcommands; each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace clipcaer::cli {

int run_classify(const std::vector<std::string>& argv);
int run_eval(const std::vector<std::string>& argv);
int run_info(const std::vector<std::string>& argv);
int run_timeline(const std::vector<std::string>& argv);

extern const char* const kClassifyHelp;
extern const char* const kEvalHelp;
extern const char* const kInfoHelp;
extern const char* const kTimelineHelp;

}  // namespace clipcaer::cli
