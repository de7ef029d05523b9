// Questions the tools ask of what the RSS says about a job (GetJobResponse): its newest run, its
// newest committed checkpoint, where a run ran, how long its stop took.
#ifndef SRS_TOOLS_JOB_VIEW_H_
#define SRS_TOOLS_JOB_VIEW_H_

#include <string>

#include "srs/rss/v1/rss.grpc.pb.h"

namespace srs::tools {

namespace rssv1 = ::srs::rss::v1;

// The newest run, or nullptr if the job never ran.
const rssv1::Configuration* NewestRun(const rssv1::GetJobResponse& job);
// The newest committed checkpoint (epoch == 0: any), or nullptr.
const rssv1::CheckpointSummary* CommittedCheckpoint(const rssv1::GetJobResponse& job,
                                                    int64_t epoch);
// The committed stop checkpoint a run wrote when it stopped, or nullptr.
const rssv1::CheckpointSummary* StopCheckpointOf(const rssv1::GetJobResponse& job,
                                                 const std::string& run_id);
// "node1,node2" (distinct, in rank order), shortened to "node1,node2,+3 more" past `max_shown`.
std::string HostList(const rssv1::Configuration& run, int max_shown);
std::string HostList(const google::protobuf::RepeatedPtrField<std::string>& hosts, int max_shown);
// "block", "block_cyclic(64)", "block_cyclic_2d(100x80, 8x8, 2x2)".
std::string DistributionText(const rssv1::Distribution& dist);
const char* ReasonName(rssv1::CheckpointReason reason);

}  // namespace srs::tools

#endif  // SRS_TOOLS_JOB_VIEW_H_
