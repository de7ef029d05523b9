// The copies of a checkpoint piece, whatever the age of its record (issue 13).
//
// A PieceRecord lists every copy in `copies`, the writer's own first. Records written before
// copies existed (RSS schema <= 2, or an old client's ReportPieces) carry one copy in the legacy
// fields depot_address/read_cap/manage_cap (and maybe depot_id); CopiesOf turns those into that
// one copy, so every reader of records sees the same shape. WithLegacyMirror keeps the legacy
// fields equal to copies[0], for clients that only know them.
#ifndef SRS_RSS_CLIENT_PIECE_COPIES_H_
#define SRS_RSS_CLIENT_PIECE_COPIES_H_

#include <vector>

#include "srs/rss/v1/rss.pb.h"

namespace srs {

// Every copy of `record`: record.copies() if any, else the one copy its legacy fields describe
// (none if they are empty too).
inline std::vector<rss::v1::PieceCopy> CopiesOf(const rss::v1::PieceRecord& record) {
  if (record.copies_size() > 0) return {record.copies().begin(), record.copies().end()};
  if (record.depot_address().empty() && record.depot_id().empty()) return {};
  rss::v1::PieceCopy copy;
  copy.set_depot_id(record.depot_id());
  copy.set_depot_address(record.depot_address());
  copy.set_read_cap(record.read_cap());
  copy.set_manage_cap(record.manage_cap());
  return {copy};
}

// `record` with `copies` filled (from the legacy fields if it had none) and the legacy fields
// set from copies[0].
inline rss::v1::PieceRecord WithLegacyMirror(rss::v1::PieceRecord record) {
  std::vector<rss::v1::PieceCopy> copies = CopiesOf(record);
  record.clear_copies();
  for (const rss::v1::PieceCopy& copy : copies) *record.add_copies() = copy;
  if (!copies.empty()) {
    record.set_depot_id(copies[0].depot_id());
    record.set_depot_address(copies[0].depot_address());
    record.set_read_cap(copies[0].read_cap());
    record.set_manage_cap(copies[0].manage_cap());
  }
  return record;
}

}  // namespace srs

#endif  // SRS_RSS_CLIENT_PIECE_COPIES_H_
