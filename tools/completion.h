// `srs completion bash`: a bash completion script generated from the subcommands' own ArgParser
// definitions (tools/args.h), so it cannot drift from what the parser accepts.
#ifndef SRS_TOOLS_COMPLETION_H_
#define SRS_TOOLS_COMPLETION_H_

#include <string>
#include <vector>

#include "tools/args.h"

namespace srs::tools {

// The script for bash-completion: `complete -F _srs srs` over `commands` (every subcommand
// name, in order) and `specs` (their options). Words starting with '-' complete the
// subcommand's options; option values and positionals complete file names; after `srs run`'s
// options, the program's command line gets bash's default completion.
std::string BashCompletion(const std::vector<std::string>& commands,
                           const std::vector<CommandSpec>& specs);

}  // namespace srs::tools

#endif  // SRS_TOOLS_COMPLETION_H_
