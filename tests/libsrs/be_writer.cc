// Portability (the seed system stored raw bytes): writes, as a big-endian machine would, the
// same checkpoint redistribute_driver's "write" phase makes — every array's dataset stored with
// a big-endian HDF5 type — for N simulated ranks, and commits it through the RSS like the
// library does. redistribute_driver's "read N" phase then restores it on a little-endian run
// and checks every element.
//   be_writer N        (SRS_RSS, SRS_APP from with-daemons.sh)
#include <unistd.h>

#include <complex>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/piece_format.h"
#include "common/status_macros.h"
#include "depot/client/depot_client.h"
#include "layouts_reference.h"
#include "rss/client/rss_client.h"

namespace {

using srs_test::Kind;
namespace v1 = srs::rss::v1;

struct Array {
  std::string name;
  srs::ElementType type;
  std::string kind;
  std::vector<int64_t> params;
  std::vector<std::vector<char>> data;        // per rank, native bytes
  std::vector<std::vector<int64_t>> globals;  // per rank
  bool index = false;
};

template <typename T, typename F>
Array Make(const std::string& name, srs::ElementType type, Kind k, int n, F value) {
  Array a{name, type, "", {}, {}, {}, false};
  static const char* kinds[] = {"block",           "cyclic", "block_cyclic",
                                "block_cyclic_2d", "func",   "map"};
  a.kind = kinds[static_cast<int>(k)];
  if (k == Kind::kBlockCyclic) a.params = {srs_test::kBlockSize};
  if (k == Kind::k2D) {
    srs_test::Grid g = srs_test::GridFor(n);
    a.params = {srs_test::kRows, srs_test::kCols, srs_test::kMb, srs_test::kNb,
                g.nprow,         g.npcol,         g.rsrc,        g.csrc};
  }
  a.index = k == Kind::kFunc || k == Kind::kMap;
  for (int r = 0; r < n; ++r) {
    a.globals.push_back(srs_test::GlobalsOfLocal(k, n, r));
    std::vector<char> bytes(a.globals.back().size() * sizeof(T));
    T* out = reinterpret_cast<T*>(bytes.data());
    for (size_t i = 0; i < a.globals.back().size(); ++i) out[i] = value(a.globals.back()[i]);
    a.data.push_back(std::move(bytes));
  }
  return a;
}

std::vector<Array> Arrays(int n) {
  std::vector<Array> arrays;
  for (Kind k : srs_test::AllKinds()) {
    arrays.push_back(Make<double>("a_" + srs_test::KindName(k), srs::ElementType::kDouble, k, n,
                                  [k](int64_t g) { return g + 100000.0 * static_cast<int>(k); }));
  }
  arrays.push_back(Make<int32_t>("ints", srs::ElementType::kInt32, Kind::kBlock, n,
                                 [](int64_t g) { return static_cast<int32_t>(g * 3 - 7); }));
  arrays.push_back(Make<std::complex<float>>(
      "cf", srs::ElementType::kFloatComplex, Kind::kBlockCyclic, n, [](int64_t g) {
        return std::complex<float>(static_cast<float>(g), -0.5f * static_cast<float>(g));
      }));
  return arrays;
}

// The BeginCheckpoint request: every array's spec, as the library would send it.
v1::BeginCheckpointRequest BeginRequest(const std::string& token, const std::vector<Array>& arrays,
                                        int n) {
  v1::BeginCheckpointRequest begin;
  begin.set_run_token(token);
  begin.set_reason(v1::REASON_STOP);
  for (const Array& a : arrays) {
    v1::ArraySpec* spec = begin.add_arrays();
    spec->set_name(a.name);
    spec->set_srs_type(srs::ElementTypeName(a.type));
    spec->set_global_count(srs_test::kCount);
    v1::Distribution* d = spec->mutable_distribution();
    d->set_kind(a.kind);
    if (a.kind == "block_cyclic") d->set_block_size(a.params[0]);
    if (a.kind == "block_cyclic_2d") {
      d->set_rows(a.params[0]), d->set_cols(a.params[1]), d->set_mb(a.params[2]);
      d->set_nb(a.params[3]), d->set_nprow(a.params[4]), d->set_npcol(a.params[5]);
      d->set_rsrc(a.params[6]), d->set_csrc(a.params[7]);
    }
    for (int r = 0; r < n; ++r) spec->add_local_counts(a.globals[r].size());
  }
  v1::ArraySpec* pr = begin.add_arrays();  // per-rank data: r + 2 elements on rank r
  pr->set_name("per_rank");
  pr->set_srs_type("int64");
  pr->mutable_distribution()->set_kind("none");
  int64_t total = 0;
  for (int r = 0; r < n; ++r) pr->add_local_counts(r + 2), total += r + 2;
  pr->set_global_count(total);
  return begin;
}

// Rank r's piece, every dataset big-endian, streamed to its depot; returns its record.
absl::StatusOr<v1::PieceRecord> PutPiece(const std::string& job, int64_t epoch, int r, int n,
                                         const std::vector<Array>& arrays,
                                         const std::string& depot_address,
                                         const srs::depot::v1::WriteGrant& grant) {
  std::vector<int64_t> per_rank;
  for (int i = 0; i < r + 2; ++i) per_rank.push_back(r * 100 + i);
  std::vector<srs::piece::DatasetWrite> ds;
  for (const Array& a : arrays) {
    srs::piece::DatasetWrite w{
        a.name,           a.type, a.data[r].data(), static_cast<int64_t>(a.globals[r].size()),
        srs_test::kCount, a.kind, a.params};
    if (a.index) w.global_index = a.globals[r].data();
    ds.push_back(w);
  }
  ds.push_back({"per_rank", srs::ElementType::kInt64, per_rank.data(), r + 2, r + 2, "none", {}});
  for (auto& w : ds) w.big_endian = true;
  srs::piece::PieceHeader header{job, epoch, r, n, ""};
  SRS_ASSIGN_OR_RETURN(std::string image, srs::piece::WritePieceImage(header, ds));
  SRS_ASSIGN_OR_RETURN(auto depot, srs::DepotClient::Connect(depot_address, absl::Seconds(30)));
  srs::depot::v1::PieceKey key;
  key.set_job(job), key.set_epoch(epoch), key.set_rank(r);
  SRS_ASSIGN_OR_RETURN(auto put, depot->PutBytes(key, image, 0, grant));
  v1::PieceRecord rec;
  rec.set_rank(r), rec.set_depot_address(depot_address);
  rec.set_read_cap(put.caps().read()), rec.set_manage_cap(put.caps().manage());
  rec.set_size_bytes(put.info().size_bytes()), rec.set_xxh3_64(put.info().xxh3_64());
  return rec;
}

absl::Status WriteAll(int n) {
  std::string job = std::getenv("SRS_APP");
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  SRS_ASSIGN_OR_RETURN(auto rss,
                       srs::RssClient::Connect(std::getenv("SRS_RSS"), absl::Seconds(30)));
  v1::RegisterRunRequest reg;
  reg.set_job(job);
  reg.set_nprocs(n);
  reg.set_mode(v1::REGISTER_FRESH);
  reg.set_keep(1);
  for (int r = 0; r < n; ++r) {
    auto* p = reg.add_ranks();
    p->set_rank(r), p->set_host(host), p->set_depot("auto");
  }
  SRS_ASSIGN_OR_RETURN(v1::RegisterRunResponse run, rss->RegisterRun(reg));
  std::vector<Array> arrays = Arrays(n);
  SRS_ASSIGN_OR_RETURN(v1::BeginCheckpointResponse begun,
                       rss->BeginCheckpoint(BeginRequest(run.run_token(), arrays, n)));
  v1::ReportPiecesRequest report;
  report.set_run_token(run.run_token());
  report.set_epoch(begun.epoch());
  for (int r = 0; r < n; ++r) {
    SRS_ASSIGN_OR_RETURN(*report.add_pieces(),
                         PutPiece(job, begun.epoch(), r, n, arrays, run.rank_depots(r),
                                  begun.write_grants_size() > r ? begun.write_grants(r)
                                                                : srs::depot::v1::WriteGrant()));
  }
  SRS_RETURN_IF_ERROR(rss->ReportPieces(report).status());
  v1::CommitCheckpointRequest commit;
  commit.set_run_token(run.run_token());
  commit.set_epoch(begun.epoch());
  return rss->CommitCheckpoint(commit).status();
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 0;
  if (n < 1 || std::getenv("SRS_RSS") == nullptr || std::getenv("SRS_APP") == nullptr) {
    std::fprintf(stderr, "usage: SRS_RSS=.. SRS_APP=.. %s NPROCS\n", argv[0]);
    return 2;
  }
  absl::Status status = WriteAll(n);
  if (!status.ok()) {
    std::fprintf(stderr, "be_writer: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("be_writer: committed a big-endian checkpoint of %d ranks\n", n);
  return 0;
}
