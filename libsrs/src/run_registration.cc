#include "libsrs/src/run_registration.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/owner_file.h"
#include "common/status_macros.h"
#include "libsrs/src/collective_status.h"
#include "libsrs/src/launcher_signals.h"

namespace srs {
namespace libsrs {
namespace {

rss::v1::RegisterMode ModeOf(ResumeMode resume) {
  switch (resume) {
    case ResumeMode::kYes:
      return rss::v1::REGISTER_RESUME;
    case ResumeMode::kNo:
      return rss::v1::REGISTER_FRESH;
    default:
      return rss::v1::REGISTER_AUTO;
  }
}

std::string OwnerFileOf(const Settings& s) {
  return s.owner_file.empty() ? DefaultOwnerFile() : s.owner_file;
}

absl::StatusOr<rss::v1::RegisterRunRequest> BuildRequest(const RunEnv& env,
                                                         const std::vector<std::string>& hosts,
                                                         const std::vector<std::string>& depots) {
  const Settings& s = env.settings;
  rss::v1::RegisterRunRequest req;
  req.set_job(s.app);
  req.set_nprocs(env.nprocs);
  req.set_mode(ModeOf(s.resume));
  req.set_epoch(s.epoch);
  req.set_keep(s.keep);
  req.set_redundancy(s.redundancy);
  req.set_force(s.force);
  if (s.force) {
    if (s.token_file.empty()) {
      return absl::InvalidArgumentError("force = yes needs token_file (SRS_TOKEN_FILE)");
    }
    SRS_ASSIGN_OR_RETURN(std::string token, ReadAdminToken(s.token_file));
    req.set_admin_token(token);
  } else if (!s.token_file.empty()) {
    // Whoever can read the admin token may act on any job: with it a job whose owner secret was
    // lost (or one that predates ownership) still resumes. Unreadable: go on without it.
    absl::StatusOr<std::string> token = ReadAdminToken(s.token_file);
    if (token.ok()) req.set_admin_token(*token);
  }
  absl::StatusOr<std::string> secret = ReadOwnerSecret(OwnerFileOf(s), s.rss, s.app);
  if (secret.ok()) req.set_owner_secret(*secret);
  for (int r = 0; r < env.nprocs; ++r) {
    rss::v1::RankPlacement* placement = req.add_ranks();
    placement->set_rank(r);
    placement->set_host(hosts[r]);
    placement->set_depot(depots[r]);
  }
  return req;
}

// Rank 0's half: talk to the RSS, return the serialized answer.
absl::StatusOr<std::string> RegisterOnRoot(RunEnv* env, const std::vector<std::string>& hosts,
                                           const std::vector<std::string>& depots) {
  SRS_ASSIGN_OR_RETURN(env->rss, RssClient::Connect(env->settings.rss, env->settings.rpc_timeout));
  SRS_ASSIGN_OR_RETURN(rss::v1::RegisterRunRequest req, BuildRequest(*env, hosts, depots));
  absl::StatusOr<rss::v1::RegisterRunResponse> answer = env->rss->RegisterRun(req);
  if (absl::IsUnauthenticated(answer.status()) || absl::IsPermissionDenied(answer.status())) {
    return Annotate(answer.status(),
                    absl::StrCat("job ", env->settings.app, " (owner secrets are kept in ",
                                 OwnerFileOf(env->settings), ")"));
  }
  SRS_ASSIGN_OR_RETURN(rss::v1::RegisterRunResponse resp, std::move(answer));
  if (!resp.owner_secret().empty()) {
    // This registration made us the job's owner: keep the secret (0600) before going on, since
    // the RSS will never show it again.
    std::string path = OwnerFileOf(env->settings);
    absl::Status stored =
        StoreOwnerSecret(path, env->settings.rss, env->settings.app, resp.owner_secret());
    if (!stored.ok()) {
      return Annotate(stored, absl::StrCat("job ", env->settings.app,
                                           ": the RSS made this run the job's owner but its owner "
                                           "secret cannot be kept (set owner_file)"));
    }
    resp.clear_owner_secret();  // the other ranks do not need it
  }
  if (resp.rank_depots_size() != env->nprocs) {
    return absl::InternalError(absl::StrCat("RSS ", env->settings.rss, " resolved ",
                                            resp.rank_depots_size(), " depots for ", env->nprocs,
                                            " ranks"));
  }
  for (int r = 0; r < env->nprocs; ++r) {
    if (resp.rank_depots(r).empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("no depot for rank ", r, " on host '", hosts[r], "' (depot = ", depots[r],
                       "): start srs-depot there or set depot = host:port"));
    }
  }
  std::string bytes;
  resp.SerializeToString(&bytes);
  return bytes;
}

}  // namespace

absl::Status RegisterRun(const std::string& config_path, RunEnv* env) {
  // Before anything slow: under `srs run` a batch system's SIGTERM must find the rank ready to
  // checkpoint, not kill it (launcher_signals.h).
  SRS_RETURN_IF_ERROR(AgreeStatus(env->comm, IgnoreLauncherSignals()));
  absl::StatusOr<Settings> settings = LoadSettings(config_path);
  SRS_RETURN_IF_ERROR(AgreeStatus(env->comm, settings.status()));
  env->settings = *std::move(settings);
  if (!env->settings.log.empty()) {
    SetLogLevel(ParseLogLevel(env->settings.log, GetLogLevel()));
  }
  env->host = ResolveHost(env->settings);
  std::vector<std::string> hosts = GatherStrings(env->comm, 0, env->host);
  std::vector<std::string> depots = GatherStrings(env->comm, 0, env->settings.depot);

  absl::StatusOr<std::string> answer = std::string();
  if (env->rank == 0) answer = RegisterOnRoot(env, hosts, depots);
  SRS_RETURN_IF_ERROR(BroadcastStatus(env->comm, 0, answer.status()));
  std::string bytes = env->rank == 0 ? *answer : std::string();
  BroadcastBytes(env->comm, 0, &bytes);
  if (!env->run.ParseFromString(bytes)) {
    return absl::InternalError("cannot parse the broadcast RegisterRun answer");
  }
  env->depots =
      std::make_unique<DepotPool>(env->host, env->settings.transport, env->settings.rpc_timeout);
  SRS_LOG(INFO) << "registered run " << env->run.run_id() << " of job " << env->settings.app
                << (env->run.restart() ? " (restart)" : " (fresh start)");
  return absl::OkStatus();
}

}  // namespace libsrs
}  // namespace srs
