// RssService::MeterLargeCalls: RegisterRun, BeginCheckpoint, ReportPieces and CommitCheckpoint
// (which may carry the pieces) take their request as bytes and parse it only inside the request
// budget (rss/request_budget.h).
//
// Why not meter in the ordinary handlers: gRPC's synchronous server parses a unary request
// before it calls the handler, and the parsed form is ~5-10x the wire size (a message and two
// strings per rank placement: a 16 MiB RegisterRun of 2^20 ranks becomes ~180 MiB). Eight such
// calls at once took srs-rss to 2-3 GiB although each was valid. Served "streamed unary" with
// grpc::ByteBuffer as the message type, the handler receives the raw bytes (costing their wire
// size, already bounded by the receive limit and the transports' resource quota), learns the
// exact size, reserves it in the budget, and only then parses: at most the budget's worth of
// requests is ever parsed and copied at once, the rest wait briefly or are shed with
// RESOURCE_EXHAUSTED. A slow sender holds no reservation while its bytes trickle in.
// For clients nothing changes: the methods are still unary on the wire.
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/method_handler.h>
#include <malloc.h>

#include <functional>

#include "common/error_codes.h"
#include "google/protobuf/descriptor.h"
#include "rss/rss_service.h"

namespace srs {

namespace v1 = rss::v1;

namespace {

using RawStreamer = grpc::ServerUnaryStreamer<grpc::ByteBuffer, grpc::ByteBuffer>;

// The index of `method` in srs.rss.v1.Rss: the generated service registers its methods in
// declaration order, the order of the descriptor.
int MethodIndex(const char* method) {
  const google::protobuf::ServiceDescriptor* service =
      v1::RegisterRunRequest::descriptor()->file()->FindServiceByName("Rss");
  return service->FindMethodByName(method)->index();
}

// Large calls (>= this many wire bytes) hand their freed working memory back to the kernel.
constexpr size_t kTrimAfterBytes = size_t{4} << 20;

template <class Request, class Response>
grpc::Status ServeParsed(
    RawStreamer* stream, grpc::ByteBuffer* raw, grpc::ServerContext* ctx,
    const std::function<grpc::Status(grpc::ServerContext*, const Request*, Response*)>& handler) {
  Request request;
  // Deserialize consumes (clears) the buffer: the wire bytes go as the parsed form comes.
  grpc::Status parsed = grpc::SerializationTraits<Request>::Deserialize(raw, &request);
  if (!parsed.ok()) return parsed;
  Response response;
  grpc::Status status = handler(ctx, &request, &response);
  if (!status.ok()) return status;
  request.Clear();
  grpc::ByteBuffer out;
  bool own_buffer = false;
  status = grpc::SerializationTraits<Response>::Serialize(response, &out, &own_buffer);
  if (!status.ok()) return status;
  response.Clear();
  // Sent with the status in one write, as a plain unary answer is (a write for the message and
  // another for the trailers made a BeginCheckpoint take 1.30 ms instead of 1.13, median of 16).
  stream->Write(out, grpc::WriteOptions().set_last_message());
  return grpc::Status::OK;
}

template <class Request, class Response>
grpc::Status ServeMetered(
    RequestBudget* budget, const char* call, grpc::ServerContext* ctx, RawStreamer* stream,
    const std::function<grpc::Status(grpc::ServerContext*, const Request*, Response*)>& handler) {
  grpc::ByteBuffer raw;
  if (!stream->Read(&raw)) {
    return grpc::Status(grpc::StatusCode::CANCELLED,
                        std::string(call) + ": the client sent no request");
  }
  RequestBudget::Lease lease;
  if (budget != nullptr) {
    absl::StatusOr<RequestBudget::Lease> reserved =
        budget->Acquire(call, static_cast<int64_t>(raw.Length()));
    if (!reserved.ok()) return ToGrpcStatus(reserved.status());
    lease = std::move(*reserved);
  }
  size_t bytes = raw.Length();
  grpc::Status status = ServeParsed<Request, Response>(stream, &raw, ctx, handler);
  // The parsed request and its copies (~10x the wire size) were freed in this thread's malloc
  // arena; glibc keeps such memory for the arena's thread, so every gRPC thread that served one
  // large call would hold a large call's worth for good (eight threads: +1.5 GiB, measured).
  // Trimming returns the free pages, within the budget's reservation, before the next call.
  if (bytes >= kTrimAfterBytes) malloc_trim(0);
  return status;
}

template <class Request, class Response>
grpc::internal::MethodHandler* Metered(
    RequestBudget** budget, const char* call,
    std::function<grpc::Status(grpc::ServerContext*, const Request*, Response*)> handler) {
  return new grpc::internal::StreamedUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
      [budget, call, handler](grpc::ServerContext* ctx, RawStreamer* stream) {
        return ServeMetered<Request, Response>(*budget, call, ctx, stream, handler);
      });
}

}  // namespace

void RssService::MeterLargeCalls() {
  using std::placeholders::_1;
  using std::placeholders::_2;
  using std::placeholders::_3;
  MarkMethodStreamed(
      MethodIndex("RegisterRun"),
      Metered<v1::RegisterRunRequest, v1::RegisterRunResponse>(
          &budget_, "RegisterRun", std::bind(&RssService::RegisterRun, this, _1, _2, _3)));
  MarkMethodStreamed(
      MethodIndex("BeginCheckpoint"),
      Metered<v1::BeginCheckpointRequest, v1::BeginCheckpointResponse>(
          &budget_, "BeginCheckpoint", std::bind(&RssService::BeginCheckpoint, this, _1, _2, _3)));
  MarkMethodStreamed(
      MethodIndex("ReportPieces"),
      Metered<v1::ReportPiecesRequest, v1::ReportPiecesResponse>(
          &budget_, "ReportPieces", std::bind(&RssService::ReportPieces, this, _1, _2, _3)));
  MarkMethodStreamed(MethodIndex("CommitCheckpoint"),
                     Metered<v1::CommitCheckpointRequest, v1::CommitCheckpointResponse>(
                         &budget_, "CommitCheckpoint",
                         std::bind(&RssService::CommitCheckpoint, this, _1, _2, _3)));
}

}  // namespace srs
