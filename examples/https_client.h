// A minimal HTTP/1.1 client over a SPIFFE mTLS connection (examples/mtls.h): one request per
// connection ("Connection: close"), the response read by its Content-Length. Enough for the
// MCP Streamable HTTP transport when the server answers application/json (examples/mcp_client.h);
// the peer is authenticated by its X509-SVID, never by a host name.
//
// Thread-safety: a function of its arguments; the connection is used by one thread at a time.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/workload_proof_request.h"
#include "examples/mtls.h"

namespace spinel::examples {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// POSTs `body` to `path` on `connection` with `headers` (plus Host, Content-Type:
// application/json, Content-Length, Connection: close). Unavailable on I/O errors,
// InvalidArgument for a response that is not HTTP/1.x with a Content-Length (or no body).
absl::StatusOr<HttpResponse> PostJson(MtlsConnection& connection, const std::string& host,
                                      const std::string& path,
                                      const std::vector<common::HttpHeader>& headers,
                                      const std::string& body);

}  // namespace spinel::examples
