#include "libs/connector/proto_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/message.h>
#include <google/protobuf/reflection.h>
#include <google/protobuf/timestamp.pb.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "libs/base/strings.h"
#include "libs/json/writer.h"

namespace connectors::codec {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
namespace od = simdjson::ondemand;

constexpr std::string_view kTimestamp = "google.protobuf.Timestamp";
constexpr std::string_view kDuration = "google.protobuf.Duration";
// Older runtimes only know the name UNSATISFIABLE for constraint value 6.
constexpr std::string_view kIncompatible = "materialize.Response.Validated.Constraint.INCOMPATIBLE";
constexpr std::string_view kUnsatisfiable = "UNSATISFIABLE";

bool IsInternal(const FieldDescriptor* field) {
  return field->number() == 100 && field->name() == "internal";
}

// Raw-JSON fields hold JSON text and are embedded verbatim.
bool IsRawJson(const FieldDescriptor* field) {
  if (field->is_map()) return absl::EndsWith(field->name(), "_json_map");
  return field->type() == FieldDescriptor::TYPE_BYTES &&
         (absl::EndsWith(field->name(), "_json") || absl::EndsWith(field->name(), "_json_vec"));
}

bool Is64Bit(const FieldDescriptor* field) {
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64:
      return true;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding.

void EncodeMessage(const Message& message, json::Writer& w);

void EncodeTimestamp(const Message& message, json::Writer& w) {
  const auto& ts = static_cast<const google::protobuf::Timestamp&>(message);
  const absl::Time t = absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
  w.String(absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone()));
}

void EncodeDuration(const Message& message, json::Writer& w) {
  const auto& d = static_cast<const google::protobuf::Duration&>(message);
  std::string text = StrCat(d.seconds());
  if (d.nanos() != 0) {
    std::string frac = StrCat(std::abs(d.nanos()) + 1000000000).substr(1);
    frac.erase(frac.find_last_not_of('0') + 1);
    if (d.seconds() == 0 && d.nanos() < 0) text = "-0";
    StrAppend(&text, ".", frac);
  }
  w.String(StrCat(text, "s"));
}

void EncodeSubMessage(const Message& message, json::Writer& w) {
  const std::string& type = message.GetDescriptor()->full_name();
  if (type == kTimestamp) return EncodeTimestamp(message, w);
  if (type == kDuration) return EncodeDuration(message, w);
  EncodeMessage(message, w);
}

void EncodeRaw(std::string_view raw, json::Writer& w) {
  if (raw.empty()) {
    w.Null();
  } else {
    w.Raw(raw);
  }
}

void EncodeEnum(int number, const FieldDescriptor* field, json::Writer& w) {
  const auto* value = field->enum_type()->FindValueByNumber(number);
  if (value == nullptr) {
    w.Int(number);
  } else if (value->full_name() == kIncompatible) {
    w.String(kUnsatisfiable);
  } else {
    w.String(value->name());
  }
}

void EncodeSingular(const Message& m, const FieldDescriptor* field, json::Writer& w) {
  const Reflection* r = m.GetReflection();
  std::string scratch;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      w.Int(r->GetInt32(m, field));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      w.Uint(r->GetUInt32(m, field));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      w.String(StrCat(r->GetInt64(m, field)));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      w.String(StrCat(r->GetUInt64(m, field)));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      w.Double(r->GetDouble(m, field));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      w.Double(r->GetFloat(m, field));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      w.Bool(r->GetBool(m, field));
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      EncodeEnum(r->GetEnumValue(m, field), field, w);
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      EncodeSubMessage(r->GetMessage(m, field), w);
      break;
    case FieldDescriptor::CPPTYPE_STRING: {
      const std::string& value = r->GetStringReference(m, field, &scratch);
      if (IsRawJson(field)) {
        EncodeRaw(value, w);
      } else if (field->type() == FieldDescriptor::TYPE_BYTES) {
        w.String(absl::Base64Escape(value));
      } else {
        w.String(value);
      }
      break;
    }
  }
}

void EncodeRepeatedElement(const Message& m, const FieldDescriptor* field, int i, json::Writer& w) {
  const Reflection* r = m.GetReflection();
  std::string scratch;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      w.Int(r->GetRepeatedInt32(m, field, i));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      w.Uint(r->GetRepeatedUInt32(m, field, i));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      w.String(StrCat(r->GetRepeatedInt64(m, field, i)));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      w.String(StrCat(r->GetRepeatedUInt64(m, field, i)));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      w.Double(r->GetRepeatedDouble(m, field, i));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      w.Double(r->GetRepeatedFloat(m, field, i));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      w.Bool(r->GetRepeatedBool(m, field, i));
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      EncodeEnum(r->GetRepeatedEnumValue(m, field, i), field, w);
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      EncodeSubMessage(r->GetRepeatedMessage(m, field, i), w);
      break;
    case FieldDescriptor::CPPTYPE_STRING: {
      const std::string& value = r->GetRepeatedStringReference(m, field, i, &scratch);
      if (IsRawJson(field)) {
        EncodeRaw(value, w);
      } else if (field->type() == FieldDescriptor::TYPE_BYTES) {
        w.String(absl::Base64Escape(value));
      } else {
        w.String(value);
      }
      break;
    }
  }
}

// Map keys of the protocol are strings; entries are written sorted so output is stable.
void EncodeMap(const Message& m, const FieldDescriptor* field, json::Writer& w) {
  const Reflection* r = m.GetReflection();
  const FieldDescriptor* key_field = field->message_type()->map_key();
  const FieldDescriptor* value_field = field->message_type()->map_value();
  const int size = r->FieldSize(m, field);
  std::vector<std::pair<std::string, const Message*>> entries;
  entries.reserve(size);
  for (int i = 0; i < size; ++i) {
    const Message& entry = r->GetRepeatedMessage(m, field, i);
    const Reflection* er = entry.GetReflection();
    std::string key;
    switch (key_field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        key = er->GetString(entry, key_field);
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        key = StrCat(er->GetInt32(entry, key_field));
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        key = StrCat(er->GetUInt32(entry, key_field));
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        key = StrCat(er->GetInt64(entry, key_field));
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        key = StrCat(er->GetUInt64(entry, key_field));
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        key = er->GetBool(entry, key_field) ? "true" : "false";
        break;
      default:
        break;
    }
    entries.emplace_back(std::move(key), &entry);
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  const bool raw = IsRawJson(field);
  w.BeginObject();
  for (const auto& [key, entry] : entries) {
    w.Key(key);
    if (raw) {
      std::string scratch;
      EncodeRaw(entry->GetReflection()->GetStringReference(*entry, value_field, &scratch), w);
    } else {
      EncodeSingular(*entry, value_field, w);
    }
  }
  w.EndObject();
}

void EncodeMessage(const Message& message, json::Writer& w) {
  std::vector<const FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  w.BeginObject();
  for (const FieldDescriptor* field : fields) {
    if (IsInternal(field)) continue;
    w.Key(field->json_name());
    if (field->is_map()) {
      EncodeMap(message, field, w);
    } else if (field->is_repeated()) {
      w.BeginArray();
      const int size = message.GetReflection()->FieldSize(message, field);
      for (int i = 0; i < size; ++i) EncodeRepeatedElement(message, field, i, w);
      w.EndArray();
    } else {
      EncodeSingular(message, field, w);
    }
  }
  w.EndObject();
}

// ---------------------------------------------------------------------------------------------
// Decoding.

using Scalar = std::variant<int64_t, uint64_t, double, bool, std::string>;

std::string_view TypeName(od::json_type type) {
  switch (type) {
    case od::json_type::array:
      return "array";
    case od::json_type::object:
      return "object";
    case od::json_type::number:
      return "number";
    case od::json_type::string:
      return "string";
    case od::json_type::boolean:
      return "boolean";
    case od::json_type::null:
      return "null";
  }
  return "value";
}

class Decoder {
 public:
  explicit Decoder(UnknownKeys unknown_keys) : unknown_keys_(unknown_keys) {}

  absl::Status DecodeObject(od::value value, Message* message) {
    od::object object;
    if (auto error = value.get_object().get(object); error) {
      return Fail(message->GetDescriptor()->full_name(), "expected a JSON object", error);
    }
    return DecodeFields(object, message);
  }

  absl::Status DecodeFields(od::object& object, Message* message) {
    const Descriptor* descriptor = message->GetDescriptor();
    for (auto result : object) {
      od::field field;
      if (auto error = std::move(result).get(field); error) {
        return Fail(descriptor->full_name(), "malformed JSON", error);
      }
      std::string_view key;
      if (auto error = field.unescaped_key().get(key); error) {
        return Fail(descriptor->full_name(), "malformed object key", error);
      }
      const FieldDescriptor* fd = FindField(descriptor, key);
      if (fd == nullptr) {
        if (unknown_keys_ == UnknownKeys::kReject) {
          return absl::InvalidArgumentError(
              StrCat("unknown field \"", key, "\" in ", descriptor->full_name()));
        }
        continue;
      }
      if (IsInternal(fd)) continue;
      if (auto status = DecodeField(field.value(), message, fd); !status.ok()) return status;
    }
    return absl::OkStatus();
  }

 private:
  static const FieldDescriptor* FindField(const Descriptor* descriptor, std::string_view key) {
    for (int i = 0; i < descriptor->field_count(); ++i) {
      const FieldDescriptor* fd = descriptor->field(i);
      if (fd->json_name() == key || fd->name() == key) return fd;
    }
    return nullptr;
  }

  static absl::Status Fail(std::string_view where, std::string_view what,
                           simdjson::error_code error) {
    return absl::InvalidArgumentError(
        StrCat(where, ": ", what, " (", simdjson::error_message(error), ")"));
  }

  static absl::Status WrongType(const FieldDescriptor* fd, std::string_view expected,
                                od::json_type got) {
    return absl::InvalidArgumentError(
        StrCat("field ", fd->full_name(), ": expected ", expected, ", got ", TypeName(got)));
  }

  absl::Status DecodeField(od::value value, Message* message, const FieldDescriptor* fd) {
    od::json_type type;
    if (auto error = value.type().get(type); error) {
      return Fail(fd->full_name(), "malformed JSON value", error);
    }
    const Reflection* r = message->GetReflection();
    if (type == od::json_type::null) {
      if (fd->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !fd->is_repeated()) {
        return absl::OkStatus();  // null stands for an absent message.
      }
      if (IsRawJson(fd) && !fd->is_repeated()) {
        r->SetString(message, fd, "null");
        return absl::OkStatus();
      }
      return absl::InvalidArgumentError(
          StrCat("field ", fd->full_name(), ": null is not allowed; omit the field"));
    }
    if (fd->is_map()) return DecodeMap(value, type, message, fd);
    if (fd->is_repeated()) return DecodeRepeated(value, type, message, fd);
    if (fd->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      return DecodeSubMessage(value, type, r->MutableMessage(message, fd), fd);
    }
    if (IsRawJson(fd)) {
      auto raw = RawJson(value, type, fd);
      if (!raw.ok()) return raw.status();
      r->SetString(message, fd, std::string(*raw));
      return absl::OkStatus();
    }
    auto scalar = DecodeScalar(value, type, fd);
    if (!scalar.ok()) return scalar.status();
    SetScalar(message, fd, std::move(*scalar));
    return absl::OkStatus();
  }

  absl::Status DecodeSubMessage(od::value value, od::json_type type, Message* sub,
                                const FieldDescriptor* fd) {
    const std::string& name = sub->GetDescriptor()->full_name();
    if (name == kTimestamp || name == kDuration) {
      if (type != od::json_type::string) return WrongType(fd, "string", type);
      std::string_view text;
      if (auto error = value.get_string().get(text); error) {
        return Fail(fd->full_name(), "malformed string", error);
      }
      return name == kTimestamp ? ParseTimestamp(text, sub, fd) : ParseDuration(text, sub, fd);
    }
    if (type != od::json_type::object) return WrongType(fd, "object", type);
    return DecodeObject(value, sub);
  }

  static absl::Status ParseTimestamp(std::string_view text, Message* sub,
                                     const FieldDescriptor* fd) {
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, absl::string_view(text.data(), text.size()), &t,
                         &err)) {
      return absl::InvalidArgumentError(
          StrCat("field ", fd->full_name(), ": \"", text, "\" is not an RFC 3339 timestamp"));
    }
    auto* ts = static_cast<google::protobuf::Timestamp*>(sub);
    const absl::Duration since_epoch = t - absl::UnixEpoch();
    const int64_t seconds = absl::ToInt64Seconds(absl::Floor(since_epoch, absl::Seconds(1)));
    ts->set_seconds(seconds);
    ts->set_nanos(
        static_cast<int32_t>(absl::ToInt64Nanoseconds(since_epoch - absl::Seconds(seconds))));
    return absl::OkStatus();
  }

  static absl::Status ParseDuration(std::string_view text, Message* sub,
                                    const FieldDescriptor* fd) {
    absl::Duration d;
    if (!text.ends_with("s") ||
        !absl::ParseDuration(absl::string_view(text.data(), text.size()), &d)) {
      return absl::InvalidArgumentError(
          StrCat("field ", fd->full_name(), ": \"", text, "\" is not a duration like \"1.5s\""));
    }
    auto* duration = static_cast<google::protobuf::Duration*>(sub);
    const int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
    duration->set_seconds(seconds);
    duration->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
    return absl::OkStatus();
  }

  // The exact JSON text of a value, whatever its type.
  static absl::StatusOr<std::string_view> RawJson(od::value value, od::json_type type,
                                                  const FieldDescriptor* fd) {
    std::string_view raw;
    simdjson::error_code error;
    if (type == od::json_type::object) {
      od::object object;
      error = value.get_object().get(object);
      if (!error) error = object.raw_json().get(raw);
    } else if (type == od::json_type::array) {
      od::array array;
      error = value.get_array().get(array);
      if (!error) error = array.raw_json().get(raw);
    } else {
      raw = value.raw_json_token();
      error = simdjson::SUCCESS;
    }
    if (error) return Fail(fd->full_name(), "malformed JSON value", error);
    while (!raw.empty() &&
           (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\n' || raw.back() == '\r')) {
      raw.remove_suffix(1);
    }
    return raw;
  }

  static absl::StatusOr<Scalar> DecodeScalar(od::value value, od::json_type type,
                                             const FieldDescriptor* fd) {
    switch (fd->cpp_type()) {
      case FieldDescriptor::CPPTYPE_BOOL: {
        if (type != od::json_type::boolean) return WrongType(fd, "boolean", type);
        bool b = false;
        if (auto error = value.get_bool().get(b); error)
          return Fail(fd->full_name(), "bad bool", error);
        return Scalar(b);
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        if (type != od::json_type::string) return WrongType(fd, "string", type);
        std::string_view s;
        if (auto error = value.get_string().get(s); error) {
          return Fail(fd->full_name(), "malformed string", error);
        }
        if (fd->type() != FieldDescriptor::TYPE_BYTES) return Scalar(std::string(s));
        std::string bytes;
        if (!absl::Base64Unescape(absl::string_view(s.data(), s.size()), &bytes)) {
          return absl::InvalidArgumentError(StrCat("field ", fd->full_name(), ": invalid base64"));
        }
        return Scalar(std::move(bytes));
      }
      case FieldDescriptor::CPPTYPE_ENUM:
        return DecodeEnum(value, type, fd);
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        if (type != od::json_type::number) return WrongType(fd, "number", type);
        double d = 0;
        if (auto error = value.get_double().get(d); error) {
          return Fail(fd->full_name(), "malformed number", error);
        }
        return Scalar(d);
      }
      default:
        return DecodeInteger(value, type, fd);
    }
  }

  static absl::StatusOr<Scalar> DecodeEnum(od::value value, od::json_type type,
                                           const FieldDescriptor* fd) {
    if (type == od::json_type::number) {
      int64_t n = 0;
      if (auto error = value.get_int64().get(n); error) {
        return Fail(fd->full_name(), "enum number out of range", error);
      }
      return Scalar(n);
    }
    if (type != od::json_type::string) return WrongType(fd, "enum name or number", type);
    std::string_view name;
    if (auto error = value.get_string().get(name); error) {
      return Fail(fd->full_name(), "malformed string", error);
    }
    const auto* ev = fd->enum_type()->FindValueByName(std::string(name));
    if (ev == nullptr && name == kUnsatisfiable) {
      ev = fd->enum_type()->FindValueByName("INCOMPATIBLE");
    }
    if (ev == nullptr) {
      return absl::InvalidArgumentError(
          StrCat("field ", fd->full_name(), ": unknown enum value \"", name, "\""));
    }
    return Scalar(int64_t{ev->number()});
  }

  static absl::StatusOr<Scalar> DecodeInteger(od::value value, od::json_type type,
                                              const FieldDescriptor* fd) {
    const bool is_unsigned = fd->cpp_type() == FieldDescriptor::CPPTYPE_UINT32 ||
                             fd->cpp_type() == FieldDescriptor::CPPTYPE_UINT64;
    std::string_view text;
    if (type == od::json_type::string) {
      if (auto error = value.get_string().get(text); error) {
        return Fail(fd->full_name(), "malformed string", error);
      }
    } else if (type == od::json_type::number) {
      text = value.raw_json_token();
      while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\t' ||
                               text.back() == '\r')) {
        text.remove_suffix(1);
      }
    } else {
      return WrongType(fd, Is64Bit(fd) ? "integer or decimal string" : "integer", type);
    }
    Scalar out;
    std::from_chars_result parsed;
    if (is_unsigned) {
      uint64_t v = 0;
      parsed = std::from_chars(text.data(), text.data() + text.size(), v);
      out = v;
      if (fd->cpp_type() == FieldDescriptor::CPPTYPE_UINT32 && v > UINT32_MAX) {
        parsed.ec = std::errc::result_out_of_range;
      }
    } else {
      int64_t v = 0;
      parsed = std::from_chars(text.data(), text.data() + text.size(), v);
      out = v;
      if (fd->cpp_type() == FieldDescriptor::CPPTYPE_INT32 && (v > INT32_MAX || v < INT32_MIN)) {
        parsed.ec = std::errc::result_out_of_range;
      }
    }
    if (parsed.ec != std::errc() || parsed.ptr != text.data() + text.size()) {
      return absl::InvalidArgumentError(StrCat("field ", fd->full_name(), ": \"", text,
                                               "\" is not a valid ", is_unsigned ? "unsigned " : "",
                                               Is64Bit(fd) ? "64-bit" : "32-bit", " integer"));
    }
    return out;
  }

  static void SetScalar(Message* m, const FieldDescriptor* fd, Scalar value) {
    const Reflection* r = m->GetReflection();
    switch (fd->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        r->SetInt32(m, fd, std::get<int64_t>(value));
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        r->SetInt64(m, fd, std::get<int64_t>(value));
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        r->SetUInt32(m, fd, std::get<uint64_t>(value));
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        r->SetUInt64(m, fd, std::get<uint64_t>(value));
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        r->SetDouble(m, fd, std::get<double>(value));
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        r->SetFloat(m, fd, std::get<double>(value));
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        r->SetBool(m, fd, std::get<bool>(value));
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        r->SetEnumValue(m, fd, std::get<int64_t>(value));
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        r->SetString(m, fd, std::move(std::get<std::string>(value)));
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
  }

  static void AddScalar(Message* m, const FieldDescriptor* fd, Scalar value) {
    const Reflection* r = m->GetReflection();
    switch (fd->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        r->AddInt32(m, fd, std::get<int64_t>(value));
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        r->AddInt64(m, fd, std::get<int64_t>(value));
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        r->AddUInt32(m, fd, std::get<uint64_t>(value));
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        r->AddUInt64(m, fd, std::get<uint64_t>(value));
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        r->AddDouble(m, fd, std::get<double>(value));
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        r->AddFloat(m, fd, std::get<double>(value));
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        r->AddBool(m, fd, std::get<bool>(value));
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        r->AddEnumValue(m, fd, std::get<int64_t>(value));
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        r->AddString(m, fd, std::move(std::get<std::string>(value)));
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
  }

  absl::Status DecodeRepeated(od::value value, od::json_type type, Message* m,
                              const FieldDescriptor* fd) {
    if (type != od::json_type::array) return WrongType(fd, "array", type);
    od::array array;
    if (auto error = value.get_array().get(array); error) {
      return Fail(fd->full_name(), "malformed array", error);
    }
    const Reflection* r = m->GetReflection();
    for (auto result : array) {
      od::value element;
      od::json_type element_type;
      if (auto error = std::move(result).get(element); error) {
        return Fail(fd->full_name(), "malformed array", error);
      }
      if (auto error = element.type().get(element_type); error) {
        return Fail(fd->full_name(), "malformed array element", error);
      }
      if (fd->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        auto status = DecodeSubMessage(element, element_type, r->AddMessage(m, fd), fd);
        if (!status.ok()) return status;
      } else if (IsRawJson(fd)) {
        auto raw = RawJson(element, element_type, fd);
        if (!raw.ok()) return raw.status();
        r->AddString(m, fd, std::string(*raw));
      } else {
        if (element_type == od::json_type::null) {
          return absl::InvalidArgumentError(
              StrCat("field ", fd->full_name(), ": null is not allowed in this array"));
        }
        auto scalar = DecodeScalar(element, element_type, fd);
        if (!scalar.ok()) return scalar.status();
        AddScalar(m, fd, std::move(*scalar));
      }
    }
    return absl::OkStatus();
  }

  absl::Status DecodeMap(od::value value, od::json_type type, Message* m,
                         const FieldDescriptor* fd) {
    if (type != od::json_type::object) return WrongType(fd, "object", type);
    od::object object;
    if (auto error = value.get_object().get(object); error) {
      return Fail(fd->full_name(), "malformed object", error);
    }
    const FieldDescriptor* key_field = fd->message_type()->map_key();
    const FieldDescriptor* value_field = fd->message_type()->map_value();
    for (auto result : object) {
      od::field field;
      std::string_view key;
      if (auto error = std::move(result).get(field); error)
        return Fail(fd->full_name(), "malformed map", error);
      if (auto error = field.unescaped_key().get(key); error) {
        return Fail(fd->full_name(), "malformed map key", error);
      }
      if (key_field->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
        return absl::InvalidArgumentError(
            StrCat("field ", fd->full_name(), ": only string-keyed maps are supported"));
      }
      Message* entry = m->GetReflection()->AddMessage(m, fd);
      entry->GetReflection()->SetString(entry, key_field, std::string(key));
      od::value v = field.value();
      od::json_type vt;
      if (auto error = v.type().get(vt); error)
        return Fail(fd->full_name(), "malformed map", error);
      if (IsRawJson(fd)) {
        auto raw = RawJson(v, vt, fd);
        if (!raw.ok()) return raw.status();
        entry->GetReflection()->SetString(entry, value_field, std::string(*raw));
      } else if (value_field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        auto status = DecodeSubMessage(
            v, vt, entry->GetReflection()->MutableMessage(entry, value_field), value_field);
        if (!status.ok()) return status;
      } else {
        auto scalar = DecodeScalar(v, vt, value_field);
        if (!scalar.ok()) return scalar.status();
        SetScalar(entry, value_field, std::move(*scalar));
      }
    }
    return absl::OkStatus();
  }

  UnknownKeys unknown_keys_;
};

}  // namespace

void MessageToJson(const Message& message, std::string* out) {
  json::Writer w(out);
  EncodeMessage(message, w);
}

struct JsonMessageParser::Impl {
  od::parser parser;
  UnknownKeys unknown_keys;
};

JsonMessageParser::JsonMessageParser(UnknownKeys unknown_keys)
    : impl_(std::make_unique<Impl>(Impl{od::parser(), unknown_keys})) {}

JsonMessageParser::~JsonMessageParser() = default;

absl::Status JsonMessageParser::Parse(std::string* json, Message* message) {
  message->Clear();
  const size_t size = json->size();
  json->reserve(size + simdjson::SIMDJSON_PADDING);
  od::document doc;
  auto error =
      impl_->parser.iterate(simdjson::padded_string_view(json->data(), size, json->capacity()))
          .get(doc);
  const std::string& type = message->GetDescriptor()->full_name();
  if (error) {
    return absl::InvalidArgumentError(
        StrCat("invalid JSON for ", type, ": ", simdjson::error_message(error)));
  }
  od::object object;
  if (auto e = doc.get_object().get(object); e) {
    return absl::InvalidArgumentError(StrCat("invalid JSON for ", type, ": expected an object (",
                                             simdjson::error_message(e), ")"));
  }
  Decoder decoder(impl_->unknown_keys);
  if (auto status = decoder.DecodeFields(object, message); !status.ok()) return status;
  // A location inside the input after the object means trailing content.
  if (!doc.current_location().error()) {
    return absl::InvalidArgumentError(
        StrCat("invalid JSON for ", type, ": unexpected content after the object"));
  }
  return absl::OkStatus();
}

}  // namespace connectors::codec
