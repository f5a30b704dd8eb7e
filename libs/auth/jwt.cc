#include "libs/auth/jwt.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "libs/base/strings.h"
#include "libs/json/writer.h"

namespace connectors::auth {
namespace {

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// OpenSSL's description of its most recent error (never key material), and clears the queue.
std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof(buffer));
  return buffer;
}

void AppendBase64With(std::string_view bytes, const char* alphabet, bool pad, std::string* out) {
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    const char quad[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63],
                          alphabet[v & 63]};
    out->append(quad, 4);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 0) return;
  const uint32_t v = (in[i] << 16) | (rest == 2 ? in[i + 1] << 8 : 0);
  out->push_back(alphabet[v >> 18]);
  out->push_back(alphabet[(v >> 12) & 63]);
  if (rest == 2) out->push_back(alphabet[(v >> 6) & 63]);
  if (pad) out->append(rest == 2 ? "=" : "==");
}

constexpr char kStandard[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

struct RsaPrivateKey::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve(Base64Length(bytes.size()));
  AppendBase64With(bytes, kUrl, /*pad=*/false, &out);
  return out;
}

void AppendBase64(std::string_view bytes, std::string* out) {
  AppendBase64With(bytes, kStandard, /*pad=*/true, out);
}

absl::StatusOr<RsaPrivateKey> RsaPrivateKey::Parse(std::string_view pem, std::string_view what) {
  if (pem.find("-----BEGIN") == std::string_view::npos) {
    return absl::InvalidArgumentError(
        StrCat(what, " is not a PEM private key (expected \"-----BEGIN PRIVATE KEY-----\")"));
  }
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return absl::ResourceExhaustedError("BIO_new_mem_buf failed");
  auto key = std::make_shared<Key>();
  // An empty passphrase callback: an encrypted key fails instead of prompting on a terminal.
  key->pkey = PEM_read_bio_PrivateKey(
      bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr);
  if (key->pkey == nullptr) {
    return absl::InvalidArgumentError(
        StrCat(what, " could not be read as a PEM private key (", OpenSslError(),
               "); paste the service account's JSON key file unchanged"));
  }
  if (EVP_PKEY_base_id(key->pkey) != EVP_PKEY_RSA) {
    return absl::InvalidArgumentError(StrCat(what, " is not an RSA key; RS256 needs RSA"));
  }
  return RsaPrivateKey(std::move(key));
}

RsaPrivateKey::RsaPrivateKey(RsaPrivateKey&&) noexcept = default;
RsaPrivateKey& RsaPrivateKey::operator=(RsaPrivateKey&&) noexcept = default;
RsaPrivateKey::~RsaPrivateKey() = default;

absl::StatusOr<std::string> RsaPrivateKey::SignRs256(std::string_view data) const {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx) return absl::ResourceExhaustedError("EVP_MD_CTX_new failed");
  size_t length = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_->pkey) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, bytes, data.size()) != 1) {
    return absl::InternalError(StrCat("RS256 signing failed: ", OpenSslError()));
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, bytes,
                     data.size()) != 1) {
    return absl::InternalError(StrCat("RS256 signing failed: ", OpenSslError()));
  }
  signature.resize(length);
  return signature;
}

absl::StatusOr<std::string> SignJwt(const RsaPrivateKey& key, std::string_view key_id,
                                    std::string_view claims_json) {
  std::string header;
  json::Writer writer(&header);
  writer.BeginObject().Key("alg").String("RS256").Key("typ").String("JWT");
  if (!key_id.empty()) writer.Key("kid").String(key_id);
  writer.EndObject();
  std::string token = StrCat(Base64UrlEncode(header), ".", Base64UrlEncode(claims_json));
  auto signature = key.SignRs256(token);
  if (!signature.ok()) return signature.status();
  StrAppend(&token, ".", Base64UrlEncode(*signature));
  return token;
}

}  // namespace connectors::auth
