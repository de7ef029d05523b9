// A hostile client of srs.rss.v1 for the attack tests: raw gRPC calls built from the public
// proto, no SRS library, no owner secret, no admin token. Prints one line per call:
//   <STATUS_CODE> restart=<0|1> pieces=<N> read_caps=<N> run_token=<token> | <message>
//
//   rss_hostile_client ADDR register JOB auto|fresh|resume [SECRET]
//   rss_hostile_client ADDR finish RUN_TOKEN
//   rss_hostile_client ADDR oversize BYTES          RegisterRun with a job name of BYTES bytes
//   rss_hostile_client ADDR flood BYTES COUNT THREADS   COUNT such requests from THREADS threads
//   rss_hostile_client ADDR ranks-flood NPROCS COUNT THREADS  COUNT valid registrations of new
//                                                     jobs of NPROCS ranks from THREADS threads
//   rss_hostile_client ADDR name-with-newline
//   rss_hostile_client ADDR snapshot JOB ADMIN_TOKEN   (for the test's own checks, not an attack)
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "srs/rss/v1/rss.grpc.pb.h"

namespace v1 = srs::rss::v1;

namespace {

const char* CodeName(grpc::StatusCode code) {
  static const std::map<grpc::StatusCode, const char*> names = {
      {grpc::OK, "OK"},
      {grpc::INVALID_ARGUMENT, "INVALID_ARGUMENT"},
      {grpc::NOT_FOUND, "NOT_FOUND"},
      {grpc::PERMISSION_DENIED, "PERMISSION_DENIED"},
      {grpc::UNAUTHENTICATED, "UNAUTHENTICATED"},
      {grpc::RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED"},
      {grpc::FAILED_PRECONDITION, "FAILED_PRECONDITION"},
      {grpc::UNAVAILABLE, "UNAVAILABLE"},
      {grpc::DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED"},
      {grpc::INTERNAL, "INTERNAL"}};
  auto it = names.find(code);
  return it == names.end() ? "OTHER" : it->second;
}

std::unique_ptr<v1::Rss::Stub> Connect(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);  // the attacker sends what it likes
  args.SetMaxReceiveMessageSize(-1);
  return v1::Rss::NewStub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
}

v1::RegisterRunRequest Registration(const std::string& job, v1::RegisterMode mode) {
  v1::RegisterRunRequest req;
  req.set_job(job);
  req.set_nprocs(1);
  req.set_mode(mode);
  v1::RankPlacement* rank = req.add_ranks();
  rank->set_rank(0);
  rank->set_host("attacker-host");
  rank->set_depot("127.0.0.1:1");  // any depot: authorization is decided first
  return req;
}

grpc::Status Register(v1::Rss::Stub* stub, const v1::RegisterRunRequest& req,
                      v1::RegisterRunResponse* resp) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return stub->RegisterRun(&context, req, resp);
}

void Print(const grpc::Status& status, const v1::RegisterRunResponse& resp) {
  int read_caps = 0;
  for (const v1::PieceRecord& piece : resp.manifest().pieces())
    read_caps += !piece.read_cap().empty();
  std::string message = status.error_message().substr(0, 300);
  for (char& c : message) {
    if (c == '\n') c = ' ';
  }
  std::printf("%s restart=%d pieces=%d read_caps=%d run_token=%s | %s\n",
              CodeName(status.error_code()), resp.restart() ? 1 : 0, resp.manifest().pieces_size(),
              read_caps, resp.run_token().empty() ? "-" : resp.run_token().c_str(),
              message.c_str());
}

int Flood(v1::Rss::Stub* stub, size_t bytes, int count, int threads) {
  std::atomic<int> next{0};
  std::map<std::string, int> codes;
  std::mutex mu;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      v1::RegisterRunRequest req = Registration(std::string(bytes, 'x'), v1::REGISTER_AUTO);
      while (next.fetch_add(1) < count) {
        v1::RegisterRunResponse resp;
        grpc::Status status = Register(stub, req, &resp);
        std::lock_guard<std::mutex> lock(mu);
        ++codes[CodeName(status.error_code())];
      }
    });
  }
  for (std::thread& t : pool) t.join();
  for (const auto& [code, n] : codes) std::printf("%s %d\n", code.c_str(), n);
  return 0;
}

// Valid registrations of new jobs with NPROCS rank placements each: every field within its
// limit, so only the memory quota can refuse them.
int RanksFlood(v1::Rss::Stub* stub, int nprocs, int count, int threads) {
  std::atomic<int> next{0};
  std::map<std::string, int> codes;
  std::mutex mu;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      int i;
      while ((i = next.fetch_add(1)) < count) {
        v1::RegisterRunRequest req = Registration(
            "ranks-flood-" + std::to_string(getpid()) + "-" + std::to_string(i), v1::REGISTER_AUTO);
        req.set_nprocs(nprocs);
        for (int r = 1; r < nprocs; ++r) *req.add_ranks() = req.ranks(0);
        for (int r = 1; r < nprocs; ++r) req.mutable_ranks(r)->set_rank(r);
        v1::RegisterRunResponse resp;
        grpc::Status status = Register(stub, req, &resp);
        std::lock_guard<std::mutex> lock(mu);
        ++codes[CodeName(status.error_code())];
      }
    });
  }
  for (std::thread& t : pool) t.join();
  for (const auto& [code, n] : codes) std::printf("%s %d\n", code.c_str(), n);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: rss_hostile_client ADDR register|finish|oversize|flood|"
                 "name-with-newline ...\n");
    return 2;
  }
  std::unique_ptr<v1::Rss::Stub> stub = Connect(argv[1]);
  std::string what = argv[2];
  v1::RegisterRunResponse resp;
  if (what == "register" && argc >= 5) {
    std::string mode = argv[4];
    v1::RegisterRunRequest req = Registration(argv[3], mode == "fresh"    ? v1::REGISTER_FRESH
                                                       : mode == "resume" ? v1::REGISTER_RESUME
                                                                          : v1::REGISTER_AUTO);
    if (argc >= 6) req.set_owner_secret(argv[5]);
    Print(Register(stub.get(), req, &resp), resp);
    return 0;
  }
  if (what == "finish" && argc >= 4) {
    v1::FinishRunRequest req;
    req.set_run_token(argv[3]);
    v1::FinishRunResponse out;
    grpc::ClientContext context;
    grpc::Status status = stub->FinishRun(&context, req, &out);
    Print(status, resp);
    return 0;
  }
  if (what == "oversize" && argc >= 4) {
    size_t bytes = std::strtoull(argv[3], nullptr, 10);
    Print(Register(stub.get(), Registration(std::string(bytes, 'x'), v1::REGISTER_AUTO), &resp),
          resp);
    return 0;
  }
  if (what == "flood" && argc >= 6) {
    return Flood(stub.get(), std::strtoull(argv[3], nullptr, 10), std::atoi(argv[4]),
                 std::atoi(argv[5]));
  }
  if (what == "ranks-flood" && argc >= 6) {
    return RanksFlood(stub.get(), std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]));
  }
  if (what == "snapshot" && argc >= 5) {  // the job's record, read with the admin token
    v1::GetJobRequest req;
    req.set_job(argv[3]);
    req.set_admin_token(argv[4]);
    v1::GetJobResponse out;
    grpc::ClientContext context;
    grpc::Status status = stub->GetJob(&context, req, &out);
    if (!status.ok()) {
      std::fprintf(stderr, "GetJob: %s\n", status.error_message().c_str());
      return 1;
    }
    // Not the job's record but its depots' liveness: the last heartbeat moves every few seconds.
    for (v1::CheckpointSummary& checkpoint : *out.mutable_checkpoints()) {
      for (v1::PieceRecord& piece : *checkpoint.mutable_pieces()) {
        for (v1::PieceCopy& copy : *piece.mutable_copies()) copy.clear_depot_last_seen_unix_ms();
      }
    }
    std::printf("%s", out.DebugString().c_str());
    return 0;
  }
  if (what == "name-with-newline") {
    std::string job = "innocent\n2026-01-01T00:00:00.000Z I rss[1]: FORGED admin logged in";
    Print(Register(stub.get(), Registration(job, v1::REGISTER_AUTO), &resp), resp);
    return 0;
  }
  std::fprintf(stderr, "rss_hostile_client: bad arguments\n");
  return 2;
}
