"""The Smithy RPC v2 CBOR protocol, spoken by the newest AWS SDKs (the Rust SDK's CloudWatch client).

- AWS: a service whose model lists `smithy-rpc-v2-cbor` (CloudWatch and some forty others) answers
  `POST /service/<service>/operation/<Operation>` with `smithy-protocol: rpc-v2-cbor` and
  `Content-Type: application/cbor`: the body is the operation's input structure in CBOR (RFC 8949;
  timestamps as tag 1 epoch seconds, blobs as byte strings, doubles as floats). The response carries
  `smithy-protocol: rpc-v2-cbor` and the output structure in CBOR (no body for an operation without
  output); an error is a 4xx/5xx whose CBOR map holds `__type` (the error, e.g. `ResourceNotFound`;
  clients drop a `namespace#` prefix), `message` and the error's other members, with
  `x-amzn-query-error: Code;Sender|Receiver` for a query-compatible service such as CloudWatch
  (the code both botocore and the Rust SDK then report).
- moto: has no route for that path and no CBOR parser or serializer; it answered with its HTML 404
  page, which the Rust SDK refuses ("unexpected type 0x3c at position 0: expected map").
- Here: such a request is translated, before moto (and the fault injection of `faults.py`) sees it,
  into the awsJson 1.0 request boto3 sends (`X-Amz-Target: <targetPrefix>.<Operation>`, the JSON
  body botocore's JSONSerializer makes of the input decoded with botocore's own CBOR parser against
  the operation's input shape); moto's JSON answer is parsed by botocore against the output shape and
  encoded as CBOR (botocore's CBOR serializer, each value coerced to its member's type: a double is
  always a float, a timestamp tag 1). Errors keep their status and `x-amzn-query-error`; their
  `__type` is the bare code (namespace stripped), `message` and modelled members follow; a body
  that is not JSON (an HTML page) becomes `InternalFailure` (5xx) or the status's name. A body
  that is not CBOR is a 400 `SerializationException`, an operation the model does not have a 404
  `UnknownOperationException`; a gzip `Content-Encoding` (request compression) is undone. So every
  operation of every model that lists both `smithy-rpc-v2-cbor` and `json` (CloudWatch's
  PutMetricAlarm, DescribeAlarms, DeleteAlarms, SetAlarmState...) reaches moto and the other
  patches (`cloudwatch.py`) exactly as boto3's JSON calls do; the query and JSON protocols are
  untouched.
"""

import gzip
import io
import json
import logging
import re
import threading
from http import HTTPStatus

from botocore.exceptions import UnknownServiceError
from botocore.loaders import Loader
from botocore.parsers import JSONParser, ResponseParserError, RpcV2CBORParser
from botocore.serialize import RpcV2CBORSerializer, create_serializer
from botocore.session import get_session
from botocore.utils import ensure_boolean
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

LOG = logging.getLogger("sitewarden_emulator.rpcv2cbor")

PROTOCOL = "rpc-v2-cbor"
_PATH = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")
# Smithy service name in the path (the model's targetPrefix) → botocore service name. CloudWatch is
# known; any other is looked up once in botocore's models on its first request.
_KNOWN = {"GraniteServiceVersion20100801": "cloudwatch"}
_lock = threading.Lock()
_by_prefix: dict[str, str] | None = None
_models: dict[str, object] = {}


def service_model(prefix: str):
    """The botocore model of the service the path names, if it speaks both rpc-v2-cbor and JSON."""
    global _by_prefix
    name = _KNOWN.get(prefix)
    with _lock:
        if name is None:
            if _by_prefix is None:
                _by_prefix = _scan_models()
            name = _by_prefix.get(prefix)
        if name is None:
            return None
        if name not in _models:
            _models[name] = get_session().get_service_model(name)
        return _models[name]


def _scan_models() -> dict[str, str]:
    loader, found = Loader(), {}
    for name in loader.list_available_services("service-2"):
        try:
            metadata = loader.load_service_model(name, "service-2")["metadata"]
        except (UnknownServiceError, KeyError, ValueError):
            continue
        protocols = metadata.get("protocols", [metadata.get("protocol")])
        if "smithy-rpc-v2-cbor" in protocols and "json" in protocols and metadata.get("targetPrefix"):
            found[metadata["targetPrefix"]] = name
    return found


class Encoder(RpcV2CBORSerializer):
    """botocore's CBOR serializer, made to encode any answer moto gives against a shape: members the
    shape does not have are dropped, None is left out, and each value is coerced to its member's
    type (moto may give an int for a double, a float for an integer)."""

    def encode(self, value, shape) -> bytes:
        body = bytearray()
        self._serialize_data_item(body, value, shape)
        return bytes(body)

    def _serialize_data_item(self, serialized, value, shape, key=None):
        method = getattr(self, f"_serialize_type_{shape.type_name}", None)
        if method is None or (shape.type_name == "structure" and shape.is_document_type):
            self._serialize_any(serialized, value)
        else:
            method(serialized, value, shape, key)

    def _serialize_type_structure(self, serialized, value, shape, key):
        members = shape.members
        value = {k: v for k, v in value.items() if k in members and v is not None}
        super()._serialize_type_structure(serialized, value, shape, key)

    def _serialize_type_integer(self, serialized, value, shape, key):
        super()._serialize_type_integer(serialized, int(value), shape, key)

    def _serialize_type_long(self, serialized, value, shape, key):
        self._serialize_type_integer(serialized, value, shape, key)

    def _serialize_type_float(self, serialized, value, shape, key):
        super()._serialize_type_float(serialized, float(value), shape, key)

    def _serialize_type_double(self, serialized, value, shape, key):
        super()._serialize_type_double(serialized, float(value), shape, key)

    def _serialize_type_string(self, serialized, value, shape, key):
        super()._serialize_type_string(serialized, value if isinstance(value, str) else str(value), shape, key)

    def _serialize_type_boolean(self, serialized, value, shape, key):
        super()._serialize_type_boolean(serialized, ensure_boolean(value), shape, key)

    def _serialize_any(self, serialized, value):
        """A value without a shape (a document): by its Python type."""
        if value is None:
            serialized.extend(self._get_initial_byte(self.FLOAT_AND_SIMPLE_MAJOR_TYPE, 22))
        elif isinstance(value, bool):
            super()._serialize_type_boolean(serialized, value, None, None)
        elif isinstance(value, int):
            super()._serialize_type_integer(serialized, value, None, None)
        elif isinstance(value, float):
            super()._serialize_type_double(serialized, value, None, None)
        elif isinstance(value, str):
            super()._serialize_type_string(serialized, value, None, None)
        elif isinstance(value, (bytes, bytearray)):
            self._serialize_type_blob(serialized, value, None, None)
        elif isinstance(value, dict):
            self._head(serialized, self.MAP_MAJOR_TYPE, len(value))
            for k, v in value.items():
                super()._serialize_type_string(serialized, str(k), None, None)
                self._serialize_any(serialized, v)
        elif isinstance(value, (list, tuple)):
            self._head(serialized, self.LIST_MAJOR_TYPE, len(value))
            for item in value:
                self._serialize_any(serialized, item)
        else:
            super()._serialize_type_string(serialized, str(value), None, None)

    def _head(self, serialized, major_type, length):
        info, size = self._get_additional_info_and_num_bytes(length)
        serialized.extend(self._get_initial_byte(major_type, info) + (length.to_bytes(size, "big") if size else b""))


_ENCODER = Encoder()
_JSON_REQUESTS = create_serializer("json", include_validation=False)


class _Rejected(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def decode_request(environ, operation) -> dict:
    """The input parameters of a CBOR request, as botocore's client would have been given them."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    if environ.get("HTTP_CONTENT_ENCODING", "").strip().lower() == "gzip":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError) as err:
            raise _Rejected(400, "SerializationException", f"the gzip request body is not valid: {err}")
    shape = operation.input_shape
    if shape is None or not body:
        return {}
    try:
        parsed = RpcV2CBORParser().parse({"status_code": 200, "headers": {}, "body": body}, shape)
    except (ResponseParserError, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as err:
        raise _Rejected(400, "SerializationException", f"the request body is not a valid CBOR {shape.name}: {err}")
    if not isinstance(parsed, dict):
        raise _Rejected(400, "SerializationException", f"the request body is not a CBOR map ({shape.name})")
    parsed.pop("ResponseMetadata", None)
    return parsed


def json_environ(environ, operation, params) -> dict:
    """The environ of the awsJson request boto3 would have sent for the same call."""
    request = _JSON_REQUESTS.serialize_to_request(params, operation)
    body = request["body"]
    translated = dict(environ)
    for key in ("HTTP_SMITHY_PROTOCOL", "HTTP_ACCEPT", "HTTP_CONTENT_ENCODING", "HTTP_X_AMZ_TARGET"):
        translated.pop(key, None)
    translated.update({
        "PATH_INFO": "/",
        "RAW_URI": "/" + (f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else ""),
        "REQUEST_URI": "/",
        "CONTENT_TYPE": request["headers"]["Content-Type"],
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_AMZ_TARGET": request["headers"]["X-Amz-Target"],
        "wsgi.input": io.BytesIO(body),
    })
    if "x-amzn-query-mode" in request["headers"]:
        translated["HTTP_X_AMZN_QUERY_MODE"] = request["headers"]["x-amzn-query-mode"]
    return translated


def _bare_code(code: str) -> str:
    return code.split(":", 1)[0].rsplit("#", 1)[-1]


def _status_code(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.replace(" ", "")
    except ValueError:
        return "UnknownError"


def _error_shape(service, code: str):
    for shape in service.error_shapes:
        if shape.name == code or shape.error_code == code:
            return shape
    return None


def error_map(code: str, message, shape=None, members=None) -> bytes:
    """The CBOR error body: `__type`, then the error's modelled members, `message` if none is one."""
    error = {"__type": code}
    error.update({k: v for k, v in (members or {}).items() if v is not None})
    if "message" not in error and "Message" not in error and message is not None:
        error["message"] = str(message)
    out = bytearray()
    _ENCODER._head(out, _ENCODER.MAP_MAJOR_TYPE, len(error))
    for name, value in error.items():
        _ENCODER._serialize_type_string(out, name, None, None)
        member = shape.members.get(name) if shape is not None else None
        if member is not None:
            _ENCODER._serialize_data_item(out, value, member)
        else:
            _ENCODER._serialize_any(out, value)
    return bytes(out)


def encode_error(service, status: int, body: bytes) -> bytes:
    """moto's error (JSON, or a page it made) as the CBOR error map AWS sends."""
    try:
        document = json.loads(body) if body else None
    except ValueError:
        document = None
    if not (isinstance(document, dict) and document.get("__type")):
        text = body.decode("utf-8", "replace") if body else ""
        code = re.search(r"<Code>([^<]+)</Code>", text)
        message = re.search(r"<Message>([^<]*)</Message>", text)
        words = " ".join(re.sub(r"<[^>]+>", " ", text).split())
        return error_map(code.group(1) if code else ("InternalFailure" if status >= 500 else _status_code(status)),
                         message.group(1) if message else (words[:500] or _status_code(status)))
    code = _bare_code(str(document["__type"]))
    shape = _error_shape(service, code)
    members = {}
    if shape is not None:
        try:
            members = JSONParser().parse({"status_code": status, "headers": {}, "body": body}, shape)
        except (ResponseParserError, ValueError, TypeError):
            members = {}
    return error_map(code, document.get("message", document.get("Message")), shape, members)


def encode_output(operation, body: bytes) -> bytes:
    """moto's JSON answer as the CBOR output structure (no body for an operation without output)."""
    shape = operation.output_shape
    if shape is None:
        return b""
    if not isinstance(json.loads(body or b"{}"), dict):  # a page that is not JSON raises here too
        raise ValueError(f"moto's answer is not a JSON object: {body[:200]!r}")
    parsed = JSONParser().parse({"status_code": 200, "headers": {}, "body": body or b"{}"}, shape)
    parsed.pop("ResponseMetadata", None)
    return _ENCODER.encode(parsed, shape)


def _reply(start_response, status: int, headers: list, body: bytes):
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    start_response(f"{status} {reason}", headers + [("Content-Length", str(len(body)))])
    return [body]


def _cbor_headers(body: bytes, extra=()) -> list:
    headers = [("smithy-protocol", PROTOCOL)]
    if body:
        headers.append(("Content-Type", "application/cbor"))
    return headers + list(extra)


def _rejection(start_response, rejected: _Rejected):
    body = error_map(rejected.code, rejected.message)
    return _reply(start_response, rejected.status, _cbor_headers(body), body)


# Response headers of moto's JSON answer that describe its body, not the call.
_DROPPED = {"content-type", "content-length", "x-amzn-errortype", "x-amz-crc32", "status", "transfer-encoding"}


def handle(original, app, environ, start_response, service, operation_name):
    try:
        if operation_name not in service.operation_names:
            raise _Rejected(404, "UnknownOperationException",
                            f"{operation_name} is not an operation of {service.metadata['targetPrefix']}")
        operation = service.operation_model(operation_name)
        params = decode_request(environ, operation)
        translated = json_environ(environ, operation, params)
    except _Rejected as rejected:
        return _rejection(start_response, rejected)

    answer = {}
    chunks = []

    def capture(status, headers, exc_info=None):
        answer["status"] = int(str(status).split(" ", 1)[0])
        answer["headers"] = list(headers)
        return chunks.append

    result = original(app, translated, capture)
    try:
        for chunk in result:
            chunks.append(chunk)
    finally:
        if hasattr(result, "close"):
            result.close()
    status = answer.get("status", 500)
    body = b"".join(c if isinstance(c, bytes) else str(c).encode() for c in chunks)
    kept = [(k, v) for k, v in answer.get("headers", []) if k.lower() not in _DROPPED]
    try:
        if status < 300:
            cbor = encode_output(operation, body)
        else:
            cbor = encode_error(service, status, body)
    except Exception as err:  # moto's answer did not fit the model: say so, in the protocol
        LOG.exception("%s answer not encoded as CBOR", operation_name)
        return _rejection(start_response, _Rejected(500, "InternalFailure", f"the emulator could not encode "
                                                    f"moto's {operation_name} answer as CBOR: {err}"))
    return _reply(start_response, status, _cbor_headers(cbor, kept), cbor)


def apply() -> None:
    original = DomainDispatcherApplication.__call__

    def call(self, environ, start_response):
        match = _PATH.match(environ.get("PATH_INFO", ""))
        if match and environ.get("REQUEST_METHOD") == "POST" and \
                environ.get("HTTP_SMITHY_PROTOCOL", "").strip().lower() == PROTOCOL:
            service = service_model(match.group(1))
            if service is not None:
                return handle(original, self, environ, start_response, service, match.group(2))
        return original(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call
