#include "libsrs/src/piece_writer.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/piece_format.h"
#include "common/status_macros.h"
#include "common/write_behind.h"
#include "libsrs/src/piece_replication.h"
#include "libsrs/src/test_hooks.h"
#include "rss/client/piece_copies.h"

namespace srs {
namespace libsrs {
namespace {

rss::v1::PieceRecord RecordOf(const RunEnv& env, const depot::v1::PutResponse& put) {
  rss::v1::PieceRecord record;
  record.set_rank(env.rank);
  record.set_depot_address(env.my_depot());
  record.set_read_cap(put.caps().read());
  record.set_manage_cap(put.caps().manage());
  record.set_size_bytes(put.info().size_bytes());
  record.set_xxh3_64(put.info().xxh3_64());
  return record;
}

depot::v1::PieceKey KeyOf(const RunEnv& env, int64_t epoch) {
  depot::v1::PieceKey key;
  key.set_job(env.settings.app);
  key.set_epoch(epoch);
  key.set_rank(env.rank);
  return key;
}

// What the depot reserves for the piece: its data plus headroom for HDF5 metadata, attributes
// and index tables.
int64_t SizeHintOf(const std::vector<piece::DatasetWrite>& datasets) {
  int64_t size_hint = (64 << 10) + static_cast<int64_t>(datasets.size()) * 4096;
  for (const piece::DatasetWrite& ds : datasets) {
    size_hint += ds.count * static_cast<int64_t>(ElementSize(ds.type));
    if (ds.global_index != nullptr) size_hint += ds.count * 8;
  }
  return size_hint;
}

// Keeps `done_bytes` (may be null) at the piece's bytes done as they get there; the test hook
// slows each step.
WriteBehind::OnDurable CountDone(std::atomic<int64_t>* done_bytes) {
  return [done_bytes](int64_t bytes) {
    TestHookSlowWrite();
    if (done_bytes != nullptr) done_bytes->store(bytes, std::memory_order_relaxed);
  };
}

// Writes the piece's HDF5 file at `path` (a spool path of a same-host depot), hashed on the way:
// the file's checksum comes from the bytes as they are written, so the depot's commit does not
// read the piece back. Not fsynced here: the depot fsyncs every file it adopts, while it checks
// the file's metadata, and publishes nothing before (depot/file/file_backend.cc); a second
// fsync by the writer only kept the hash and that check waiting for the disk.
absl::StatusOr<FileDigest> WriteSpoolFile(const std::string& path, const piece::PieceHeader& header,
                                          const std::vector<piece::DatasetWrite>& datasets,
                                          std::atomic<int64_t>* done_bytes, bool direct_io) {
  if (done_bytes != nullptr) done_bytes->store(0, std::memory_order_relaxed);
  return piece::WritePieceFileHashed(
      path, header, datasets,
      piece::WriteOptions{CountDone(done_bytes), direct_io, /*fsync=*/false});
}

}  // namespace

absl::StatusOr<std::vector<piece::DatasetWrite>> BuildPieceDatasets(
    const RunEnv& env, const ArrayRegistry& registry, std::vector<std::vector<int64_t>>* indices) {
  std::vector<piece::DatasetWrite> datasets;
  indices->reserve(registry.arrays().size());
  for (const auto& [name, array] : registry.arrays()) {
    piece::DatasetWrite ds;
    ds.name = name;
    ds.type = array.type;
    ds.data = array.data;
    ds.count = array.local_count;
    ds.global_count = array.global_count;
    ds.distribution = "none";
    if (array.layout != nullptr) {
      ds.distribution = array.layout->name();
      ds.distribution_params = array.layout->params();
      if (array.layout->user_defined()) {
        indices->push_back(
            array.layout->GlobalIndexOfLocal(array.global_count, env.rank, env.nprocs));
        ds.global_index = indices->back().data();
      }
    }
    datasets.push_back(std::move(ds));
  }
  return datasets;
}

int64_t PieceDataBytes(const ArrayRegistry& registry) {
  int64_t bytes = 0;
  for (const auto& entry : registry.arrays()) {
    bytes += entry.second.local_count * static_cast<int64_t>(ElementSize(entry.second.type));
  }
  return bytes;
}

std::unique_ptr<EarlyLocalWrite> StartEarlyPiece(const RunEnv& env,
                                                 const std::vector<piece::DatasetWrite>& datasets,
                                                 int64_t epoch, std::atomic<int64_t>* done_bytes) {
  if (epoch <= 0) return nullptr;
  const std::string& address = env.my_depot();
  absl::StatusOr<std::shared_ptr<DepotClient>> depot = env.depots->Get(address);
  absl::StatusOr<bool> local = env.depots->SharesHost(address);
  if (!depot.ok() || !local.ok() || !*local) return nullptr;
  const piece::PieceHeader header{env.settings.app, epoch, env.rank, env.nprocs, ""};
  return (*depot)->StartEarlyLocalWrite(KeyOf(env, epoch), SizeHintOf(datasets),
                                        [header, &datasets, done_bytes](const std::string& path) {
                                          return WriteSpoolFile(path, header, datasets, done_bytes,
                                                                /*direct_io=*/false);
                                        });
}

absl::StatusOr<rss::v1::PieceRecord> WritePieceDatasets(
    const RunEnv& env, const std::vector<piece::DatasetWrite>& datasets, int64_t epoch,
    const RankWriteGrant& ticket, std::atomic<int64_t>* done_bytes, bool direct_io,
    EarlyLocalWrite* early) {
  const depot::v1::WriteGrant& grant = ticket.grant;
  const piece::PieceHeader header{env.settings.app, epoch, env.rank, env.nprocs, ""};
  const depot::v1::PieceKey key = KeyOf(env, epoch);
  const std::string& address = env.my_depot();
  SRS_ASSIGN_OR_RETURN(std::shared_ptr<DepotClient> depot, env.depots->Get(address));
  SRS_ASSIGN_OR_RETURN(bool local, env.depots->SharesHost(address));
  const int64_t size_hint = SizeHintOf(datasets);
  absl::StatusOr<depot::v1::PutResponse> put;
  absl::Time start = absl::Now(), written = absl::InfinitePast();
  if (local) {
    put = depot->PutLocalHashed(
        key, size_hint, 0,
        [&](const std::string& spool_path) {
          absl::StatusOr<FileDigest> digest =
              WriteSpoolFile(spool_path, header, datasets, done_bytes, direct_io);
          written = absl::Now();
          return digest;
        },
        grant, early);
    // The depot made the file durable as it committed it: all of it is done now (the writer
    // counted only what it saw written back).
    if (put.ok() && done_bytes != nullptr) {
      done_bytes->store(put->info().size_bytes(), std::memory_order_relaxed);
    }
    // The spool is private to the depot's user: a process of another user cannot create its
    // piece there. Use the depot's RPCs from now on (the depot's permissions stay as they are).
    if (!put.ok() && absl::StrContains(put.status().message(), "Permission denied")) {
      env.depots->DenyFastPath(address);
      local = false;
    }
  }
  if (!local) {
    SRS_ASSIGN_OR_RETURN(std::string image, piece::WritePieceImage(header, datasets));
    written = absl::Now();
    // Sent in write-behind-sized slices, counted as they go (a retry starts the count again).
    const absl::string_view bytes = image;
    put = depot->PutStream(
        key, static_cast<int64_t>(bytes.size()), 0,
        [&](const DepotClient::ChunkSend& send) {
          const WriteBehind::OnDurable count_done = CountDone(done_bytes);
          for (size_t at = 0; at < bytes.size(); at += WriteBehind::kChunkBytes) {
            if (!send(bytes.substr(at, WriteBehind::kChunkBytes))) break;
            count_done(static_cast<int64_t>(std::min(bytes.size(), at + WriteBehind::kChunkBytes)));
          }
          return absl::OkStatus();
        },
        grant);
  }
  if (written == absl::InfinitePast()) written = start;  // an early write's file was adopted
  // Where the time goes (SRS_LOG=debug): building the HDF5 file vs the depot adopting it.
  SRS_LOG(DEBUG) << "piece epoch " << epoch << ": hdf5 " << absl::ToDoubleSeconds(written - start)
                 << " s, depot " << absl::ToDoubleSeconds(absl::Now() - written) << " s";
  if (!put.ok()) {
    return Annotate(put.status(), absl::StrCat("writing the epoch ", epoch, " piece of rank ",
                                               env.rank, " to depot ", address));
  }
  SRS_LOG(DEBUG) << "wrote piece epoch " << epoch << " (" << put->info().size_bytes() << " bytes, "
                 << (local ? "local" : "grpc") << ") to " << address;
  if (ticket.replicas.targets_size() == 0) {
    // One copy: named by its depot's id too when the id is known (cached from the Info that
    // decided the fast path; one Info per depot otherwise), so the RSS can follow the depot to
    // a new address. Without it the record is the legacy one, as before.
    rss::v1::PieceRecord record = RecordOf(env, *put);
    absl::StatusOr<std::string> id = env.depots->DepotId(address);
    if (!id.ok() || id->empty()) return record;
    record.set_depot_id(*id);
    return WithLegacyMirror(std::move(record));
  }
  return ReplicatePiece(env, key, RecordOf(env, *put), ticket.replicas, grant);
}

}  // namespace libsrs
}  // namespace srs
