#include "libs/network-tunnel/ssh_keys.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cctype>
#include <cstring>
#include <optional>

#include "libs/base/strings.h"

namespace connectors::tunnel::internal {
namespace {

constexpr std::string_view kWhitespace = " \t\r\n\f\v";

std::string_view Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(kWhitespace);
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(kWhitespace);
  return text.substr(begin, end - begin + 1);
}

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t found = text.find(from, pos);
    out.append(text, pos, found == std::string::npos ? std::string::npos : found - pos);
    if (found == std::string::npos) break;
    out.append(to);
    pos = found + from.size();
  }
  text = std::move(out);
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (true) {
    pos = line.find_first_not_of(" \t", pos);
    if (pos == std::string_view::npos) break;
    size_t end = line.find_first_of(" \t", pos);
    if (end == std::string_view::npos) end = line.size();
    fields.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  return fields;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Standard base64 with optional padding; false on any other character.
bool DecodeBase64(std::string_view text, std::string* out) {
  out->clear();
  uint32_t accumulator = 0;
  int bits = 0;
  for (char c : text) {
    int value;
    if (c >= 'A' && c <= 'Z') {
      value = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      value = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      value = c - '0' + 52;
    } else if (c == '+') {
      value = 62;
    } else if (c == '/') {
      value = 63;
    } else if (c == '=') {
      break;
    } else {
      return false;
    }
    accumulator = (accumulator << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((accumulator >> bits) & 0xff));
    }
  }
  return true;
}

// OpenSSH's match_pattern: * and ? wildcards over the whole string.
bool WildcardMatch(std::string_view text, std::string_view pattern) {
  size_t t = 0, p = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++t;
      ++p;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// |1|base64(salt)|base64(HMAC-SHA1(salt, name))
bool HashedMatch(std::string_view entry, std::string_view name) {
  entry.remove_prefix(3);  // "|1|"
  const size_t bar = entry.find('|');
  if (bar == std::string_view::npos) return false;
  std::string salt, hash;
  if (!DecodeBase64(entry.substr(0, bar), &salt) || !DecodeBase64(entry.substr(bar + 1), &hash)) {
    return false;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (HMAC(EVP_sha1(), salt.data(), static_cast<int>(salt.size()),
           reinterpret_cast<const unsigned char*>(name.data()), name.size(), digest,
           &digest_len) == nullptr) {
    return false;
  }
  return digest_len == hash.size() && std::memcmp(digest, hash.data(), digest_len) == 0;
}

// libssh asks for a passphrase only when the key is encrypted; refusing makes the import fail
// (instead of OpenSSL prompting on a terminal) and tells us why.
int RefusePassphrase(const char* prompt, char* buf, size_t len, int echo, int verify,
                     void* userdata) {
  *static_cast<bool*>(userdata) = true;
  return -1;
}

// Appends an SSH wire-format uint32 / string.
void PutU32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}
void PutString(std::string& out, std::string_view value) {
  PutU32(out, static_cast<uint32_t>(value.size()));
  out.append(value);
}

// Overwrites a string holding key material before it is freed.
struct Wiped {
  std::string text;
  ~Wiped() { OPENSSL_cleanse(text.data(), text.size()); }
};

// libssh 0.10 reads an Ed25519 key in PEM (PKCS#8, "-----BEGIN PRIVATE KEY-----", as OpenSSL
// writes it) but cannot sign with it. Such a key is re-encoded in the OpenSSH format, which
// libssh handles fully; other keys are left alone (nullopt).
std::optional<std::string> Ed25519PemAsOpenSsh(const std::string& pem) {
  if (pem.find("-----BEGIN PRIVATE KEY-----") == std::string::npos) return std::nullopt;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return std::nullopt;
  // A callback that supplies no passphrase: never a terminal prompt.
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(
      bio, nullptr, [](char*, int, int, void*) { return 0; }, nullptr);
  BIO_free(bio);
  if (pkey == nullptr) return std::nullopt;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> owned(pkey, &EVP_PKEY_free);
  if (EVP_PKEY_id(pkey) != EVP_PKEY_ED25519) return std::nullopt;
  unsigned char seed[32];
  unsigned char public_key[32];
  size_t seed_len = sizeof(seed);
  size_t public_len = sizeof(public_key);
  if (EVP_PKEY_get_raw_private_key(pkey, seed, &seed_len) != 1 || seed_len != 32 ||
      EVP_PKEY_get_raw_public_key(pkey, public_key, &public_len) != 1 || public_len != 32) {
    OPENSSL_cleanse(seed, sizeof(seed));
    return std::nullopt;
  }
  const std::string_view type = "ssh-ed25519";
  const std::string_view pub(reinterpret_cast<const char*>(public_key), 32);

  std::string public_blob;
  PutString(public_blob, type);
  PutString(public_blob, pub);

  Wiped private_section;
  uint32_t check = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&check), sizeof(check));
  PutU32(private_section.text, check);
  PutU32(private_section.text, check);
  PutString(private_section.text, type);
  PutString(private_section.text, pub);
  Wiped secret;  // The 64-byte Ed25519 secret: seed, then public key.
  secret.text.assign(reinterpret_cast<const char*>(seed), 32);
  secret.text.append(pub);
  OPENSSL_cleanse(seed, sizeof(seed));
  PutString(private_section.text, secret.text);
  PutString(private_section.text, "");  // Comment.
  for (char pad = 1; private_section.text.size() % 8 != 0; ++pad) {
    private_section.text.push_back(pad);
  }

  Wiped blob;
  blob.text.append("openssh-key-v1", 15);  // With its terminating NUL.
  PutString(blob.text, "none");            // Cipher.
  PutString(blob.text, "none");            // KDF.
  PutString(blob.text, "");                // KDF options.
  PutU32(blob.text, 1);                    // One key.
  PutString(blob.text, public_blob);
  PutString(blob.text, private_section.text);

  Wiped encoded;
  encoded.text.resize(4 * ((blob.text.size() + 2) / 3) + 1);
  const int encoded_len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.text.data()),
                                          reinterpret_cast<const unsigned char*>(blob.text.data()),
                                          static_cast<int>(blob.text.size()));
  encoded.text.resize(static_cast<size_t>(encoded_len));
  std::string out = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  for (size_t pos = 0; pos < encoded.text.size(); pos += 70) {
    out.append(encoded.text, pos, 70);
    out += '\n';
  }
  out += "-----END OPENSSH PRIVATE KEY-----\n";
  return out;
}

}  // namespace

std::string NormalizePrivateKey(std::string_view text) {
  std::string key(text);
  if (key.find('\n') == std::string::npos && key.find("\\n") != std::string::npos) {
    ReplaceAll(key, "\\r\\n", "\n");
    ReplaceAll(key, "\\n", "\n");
  }
  ReplaceAll(key, "\r\n", "\n");
  ReplaceAll(key, "\r", "\n");

  // Trim every line; drop blank lines before and after the key but keep inner ones (an
  // encrypted PEM separates its headers from the body with one).
  std::vector<std::string_view> lines;
  std::string_view rest = key;
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    lines.push_back(Trim(line));
    if (newline == std::string_view::npos) break;
    rest.remove_prefix(newline + 1);
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  size_t first = 0;
  while (first < lines.size() && lines[first].empty()) ++first;

  // The whole key on one line, its line breaks turned into spaces: rebuild the lines.
  if (lines.size() - first == 1) {
    std::string_view line = lines[first];
    const size_t begin = line.find("-----BEGIN ");
    const size_t header_end =
        begin == std::string_view::npos ? std::string_view::npos : line.find("-----", begin + 11);
    const size_t footer = line.find("-----END ");
    if (header_end != std::string_view::npos && footer != std::string_view::npos &&
        footer > header_end) {
      std::string rebuilt(line.substr(begin, header_end + 5 - begin));
      rebuilt += '\n';
      for (std::string_view field :
           SplitFields(line.substr(header_end + 5, footer - header_end - 5))) {
        rebuilt.append(field);
        rebuilt += '\n';
      }
      rebuilt.append(Trim(line.substr(footer)));
      rebuilt += '\n';
      return rebuilt;
    }
  }

  std::string out;
  for (size_t i = first; i < lines.size(); ++i) {
    out.append(lines[i]);
    out += '\n';
  }
  return out;
}

absl::StatusOr<Key> ImportPrivateKey(std::string_view text) {
  const std::string key = NormalizePrivateKey(text);
  const std::string_view trimmed = Trim(key);
  if (trimmed.empty()) {
    return absl::InvalidArgumentError(
        StrCat(kPrivateKeyField,
               ": is empty; paste the whole private key, from its -----BEGIN "
               "line to its -----END line"));
  }
  if (StartsWith(trimmed, "PuTTY-User-Key-File")) {
    return absl::InvalidArgumentError(
        StrCat(kPrivateKeyField,
               ": is a PuTTY key (.ppk), which is not supported; export it with PuTTYgen "
               "(Conversions > Export OpenSSH key) and paste that instead"));
  }
  for (std::string_view public_prefix :
       {"ssh-rsa ", "ssh-ed25519 ", "ecdsa-sha2-", "ssh-dss ", "sk-", "-----BEGIN PUBLIC KEY",
        "-----BEGIN RSA PUBLIC KEY", "---- BEGIN SSH2 PUBLIC KEY"}) {
    if (StartsWith(trimmed, public_prefix)) {
      return absl::InvalidArgumentError(StrCat(
          kPrivateKeyField,
          ": is a public key; paste the private key instead (the key file without .pub, which "
          "starts with -----BEGIN and PRIVATE KEY-----), and put the public key in the SSH "
          "user's authorized_keys on the SSH server"));
    }
  }
  const bool has_marker = trimmed.find("-----BEGIN ") != std::string_view::npos &&
                          trimmed.find("PRIVATE KEY-----") != std::string_view::npos;
  if (!has_marker) {
    return absl::InvalidArgumentError(StrCat(
        kPrivateKeyField,
        ": is not a private key: expected a PEM key (-----BEGIN RSA PRIVATE KEY-----, -----BEGIN "
        "EC PRIVATE KEY-----, -----BEGIN PRIVATE KEY-----) or an OpenSSH key (-----BEGIN "
        "OPENSSH PRIVATE KEY-----)"));
  }
  std::optional<std::string> converted = Ed25519PemAsOpenSsh(key);
  bool asked_passphrase = false;
  ssh_key raw = nullptr;
  const int rc = ssh_pki_import_privkey_base64(converted ? converted->c_str() : key.c_str(),
                                               nullptr, &RefusePassphrase, &asked_passphrase, &raw);
  if (converted) OPENSSL_cleanse(converted->data(), converted->size());
  Key imported(raw);
  const bool failed = rc != SSH_OK || imported == nullptr;
  if (asked_passphrase ||
      (failed && (trimmed.find("-----BEGIN ENCRYPTED PRIVATE KEY") != std::string_view::npos ||
                  trimmed.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos))) {
    return absl::InvalidArgumentError(
        StrCat(kPrivateKeyField,
               ": is protected by a passphrase, which the tunnel cannot use; remove it with "
               "`ssh-keygen -p -N \"\" -f <key file>` and paste the result"));
  }
  if (failed) {
    return absl::InvalidArgumentError(
        StrCat(kPrivateKeyField,
               ": could not be read as a PEM or OpenSSH private key; it may be truncated or "
               "damaged (paste all of it, with its -----BEGIN and -----END lines), or of an "
               "unsupported type (RSA, ECDSA and Ed25519 are supported)"));
  }
  return imported;
}

std::string Fingerprint(ssh_key key) {
  std::string out = ssh_key_type_to_char(ssh_key_type(key)) != nullptr
                        ? ssh_key_type_to_char(ssh_key_type(key))
                        : "unknown";
  unsigned char* hash = nullptr;
  size_t hash_len = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hash_len) != SSH_OK) {
    return out;
  }
  char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hash_len);
  ssh_clean_pubkey_hash(&hash);
  if (text != nullptr) {
    StrAppend(&out, " ", text);
    ssh_string_free_char(text);
  }
  return out;
}

absl::StatusOr<std::vector<KnownHost>> ParseKnownHosts(std::string_view text, int* skipped) {
  std::vector<KnownHost> entries;
  if (skipped != nullptr) *skipped = 0;
  int line_number = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    const std::string_view line = Trim(rest.substr(0, newline));
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    ++line_number;
    if (line.empty() || line[0] == '#') continue;

    std::vector<std::string_view> fields = SplitFields(line);
    KnownHost entry;
    entry.line = line_number;
    size_t next = 0;
    if (fields[0][0] == '@') {
      if (fields[0] == "@cert-authority") {
        if (skipped != nullptr) ++*skipped;
        continue;
      }
      if (fields[0] != "@revoked") {
        return absl::InvalidArgumentError(StrCat(kKnownHostsField, ": line ", line_number,
                                                 ": unknown marker \"", fields[0].substr(0, 32),
                                                 "\" (known: @revoked, @cert-authority)"));
      }
      entry.revoked = true;
      next = 1;
    }
    // A bare public key ("type base64 [comment]") applies to any host.
    const bool bare =
        fields.size() - next >= 2 &&
        ssh_key_type_from_name(std::string(fields[next]).c_str()) != SSH_KEYTYPE_UNKNOWN &&
        StartsWith(fields[next + 1], "AAAA");
    if (!bare) {
      if (fields.size() - next < 3) {
        return absl::InvalidArgumentError(
            StrCat(kKnownHostsField, ": line ", line_number,
                   ": expected \"host[,host...] key-type base64-key\" (as ssh-keyscan prints "
                   "it), got ",
                   fields.size() - next, " field", fields.size() - next == 1 ? "" : "s"));
      }
      std::string_view hosts = fields[next++];
      while (!hosts.empty()) {
        const size_t comma = hosts.find(',');
        std::string_view host = hosts.substr(0, comma);
        if (!host.empty()) entry.hosts.emplace_back(host);
        if (comma == std::string_view::npos) break;
        hosts.remove_prefix(comma + 1);
      }
    }
    entry.type = std::string(fields[next]);
    const std::string encoded(fields[next + 1]);
    const enum ssh_keytypes_e type = ssh_key_type_from_name(entry.type.c_str());
    if (type == SSH_KEYTYPE_UNKNOWN) {
      return absl::InvalidArgumentError(StrCat(kKnownHostsField, ": line ", line_number,
                                               ": unknown key type \"", entry.type.substr(0, 40),
                                               "\""));
    }
    ssh_key raw = nullptr;
    if (ssh_pki_import_pubkey_base64(encoded.c_str(), type, &raw) != SSH_OK || raw == nullptr) {
      return absl::InvalidArgumentError(StrCat(kKnownHostsField, ": line ", line_number, ": the ",
                                               entry.type, " key is not valid base64 key data"));
    }
    entry.key.reset(raw);
    entries.push_back(std::move(entry));
  }
  return entries;
}

bool HostMatches(const KnownHost& entry, std::string_view host, int port) {
  if (entry.hosts.empty()) return true;
  const std::string name = port == 22 ? Lower(host) : StrCat("[", Lower(host), "]:", port);
  bool matched = false;
  for (const std::string& pattern : entry.hosts) {
    if (StartsWith(pattern, "|1|")) {
      if (HashedMatch(pattern, name)) matched = true;
      continue;
    }
    if (pattern[0] == '!') {
      if (WildcardMatch(name, Lower(std::string_view(pattern).substr(1)))) return false;
      continue;
    }
    if (WildcardMatch(name, Lower(pattern))) matched = true;
  }
  return matched;
}

}  // namespace connectors::tunnel::internal
