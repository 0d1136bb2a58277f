#include "examples/https_client.h"

#include <cctype>
#include <cstdlib>

#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::examples {
namespace {

using common::StrCat;

constexpr size_t kMaxBody = 4 * 1024 * 1024;

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string Trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t\r");
  size_t end = text.find_last_not_of(" \t\r");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

absl::StatusOr<HttpResponse> ReadHead(MtlsConnection& connection) {
  SPINEL_ASSIGN_OR_RETURN(std::string status_line, connection.ReadLine());
  HttpResponse response;
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) {
    return absl::InvalidArgumentError(StrCat("not an HTTP response: ", common::Quote(status_line)));
  }
  response.status = std::atoi(status_line.c_str() + 9);
  for (;;) {
    SPINEL_ASSIGN_OR_RETURN(std::string line, connection.ReadLine());
    line = Trim(line);
    if (line.empty()) return response;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    response.headers[Lower(line.substr(0, colon))] = Trim(line.substr(colon + 1));
  }
}

}  // namespace

absl::StatusOr<HttpResponse> PostJson(MtlsConnection& connection, const std::string& host,
                                      const std::string& path,
                                      const std::vector<common::HttpHeader>& headers,
                                      const std::string& body) {
  std::string request =
      StrCat("POST ", path, " HTTP/1.1\r\nHost: ", host,
             "\r\nContent-Type: application/json\r\nContent-Length: ", body.size(),
             "\r\nConnection: close\r\n");
  for (const common::HttpHeader& header : headers) {
    common::StrAppend(&request, header.name, ": ", header.value, "\r\n");
  }
  common::StrAppend(&request, "\r\n", body);
  SPINEL_RETURN_IF_ERROR(connection.Write(request));
  SPINEL_ASSIGN_OR_RETURN(HttpResponse response, ReadHead(connection));
  auto length = response.headers.find("content-length");
  if (length == response.headers.end()) {
    if (response.status == 202 || response.status == 204) return response;
    return absl::InvalidArgumentError("HTTP response without Content-Length");
  }
  size_t size = std::strtoul(length->second.c_str(), nullptr, 10);
  if (size > kMaxBody) return absl::InvalidArgumentError("HTTP response body too large");
  SPINEL_ASSIGN_OR_RETURN(response.body, connection.ReadBytes(size));
  return response;
}

}  // namespace spinel::examples
