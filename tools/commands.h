// The subcommands of `srs`. Each takes the arguments after its name and returns the process exit
// code: 0 ok, 2 bad arguments, 1 anything else (with a one-line reason on stderr); `srs run`
// returns the job's own non-zero exit status when the job failed.
#ifndef SRS_TOOLS_COMMANDS_H_
#define SRS_TOOLS_COMMANDS_H_

#include <string>
#include <vector>

namespace srs::tools {

using Args = std::vector<std::string>;

int RunCommand(const Args& args);         // cmd_run.cc
int StopCommand(const Args& args);        // cmd_control.cc
int CheckpointCommand(const Args& args);  // cmd_control.cc
int StatusCommand(const Args& args);      // cmd_status.cc
int LsCommand(const Args& args);          // cmd_ls.cc
int HistoryCommand(const Args& args);     // cmd_history.cc
int ExportCommand(const Args& args);      // cmd_export.cc
int BenchCommand(const Args& args);       // cmd_bench.cc
int DepotsCommand(const Args& args);      // cmd_depots.cc
int RepairCommand(const Args& args);      // cmd_repair.cc
int DropCommand(const Args& args);        // cmd_repair.cc

}  // namespace srs::tools

#endif  // SRS_TOOLS_COMMANDS_H_
