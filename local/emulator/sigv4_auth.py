"""Only requests signed with this instance's key reach moto: AWS Signature Version 4, checked as AWS checks it.

moto's server accepts any request, and a Glue job run or a state machine it starts runs code: left open, whoever
can reach the port (another user of the machine, a web page through the browser) could use it. So each emulator
instance gets an access key id and secret of its own (`generate_credentials`, or the caller's through
`EMULATOR_ACCESS_KEY_ID` and `EMULATOR_SECRET_ACCESS_KEY`), and `SigV4Verifier`, a WSGI middleware in front of
moto, answers 403 in the service's own error format to a request that is unsigned, signed with another key, signed
wrongly, or dated more than 15 minutes away from now. Both forms of SigV4 are accepted: the `Authorization` header
and a presigned URL's query string. The signing key derivation and HMAC are botocore's; the canonical request
follows the SigV4 specification (S3 paths as sent, other services' paths normalised and encoded again).

The signature covers the body as it does on AWS. Other services hash the body they receive. S3 takes the payload
hash from `x-amz-content-sha256` and then holds the body to it ("Authenticating Requests: Using the Authorization
Header", https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html):
- a hex SHA-256: the body's must equal it, else 400 `XAmzContentSHA256Mismatch`;
- `UNSIGNED-PAYLOAD` (and every presigned URL): the body is not covered, as on S3;
- `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` (aws-chunked, each chunk signed: the AWS SDK for Java v1, so the
  S3A connector, over http): every chunk's signature, chained from the request's ("Transferring Payload in
  Multiple Chunks", .../sigv4-streaming.html), the trailer's (.../sigv4-streaming-trailers.html), the final
  zero-length chunk, and `x-amz-decoded-content-length` against the decoded length;
- `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (aws-chunked, unsigned chunks, a checksum trailer: the SDKs over https):
  the decoded length, and the trailer's `x-amz-checksum-*` against the decoded bytes;
- anything else (SigV4a's `STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD`, for one) is refused.
No header at all: the body's SHA-256, as other services. A presigned URL is valid for `X-Amz-Expires` seconds, from
1 to 604800 (7 days) as S3 allows (.../sigv4-query-string-auth.html).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import logging
import os
import re
import secrets
import string
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast
from urllib.parse import quote, unquote, unquote_plus

import checksums
from botocore.auth import SigV4Auth
from botocore.credentials import Credentials as BotocoreCredentials
from botocore.utils import normalize_url_path

ALGORITHM = "AWS4-HMAC-SHA256"
ACCESS_KEY_ENV = "EMULATOR_ACCESS_KEY_ID"
SECRET_KEY_ENV = "EMULATOR_SECRET_ACCESS_KEY"
# The keys of the pipeline's components, as JSON: {"<component>": {"accessKeyId": ..., "secretAccessKey": ...}}.
COMPONENT_KEYS_ENV = "EMULATOR_COMPONENT_KEYS"
# AWS refuses a request whose date is more than 15 minutes away from its clock.
MAX_SKEW_SECONDS = 15 * 60
# S3: "X-Amz-Expires ... The minimum value you can set is 1, and the maximum is 604800 (seven days)"
# (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
MAX_PRESIGNED_EXPIRES_SECONDS = 7 * 24 * 3600
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_HEX_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*SignedHeaders=(?P<signed>[^,\s]+)\s*,"
    r"\s*Signature=(?P<signature>[0-9a-f]{64})\s*$"
)
_KEY_ALPHABET = string.ascii_uppercase + "234567"
LOG = logging.getLogger("emulator.auth")


@dataclass(frozen=True)
class EmulatorCredentials:
    """The one key pair an emulator instance answers to."""

    access_key_id: str
    secret_access_key: str

    def as_boto3_kwargs(self) -> dict[str, str]:
        return {"aws_access_key_id": self.access_key_id, "aws_secret_access_key": self.secret_access_key}


def generate_credentials() -> EmulatorCredentials:
    """A fresh pair: an id shaped like AWS's (20 characters) and a 40-character secret, from `secrets`."""
    key_id = "LKIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
    secret = secrets.token_urlsafe(30)[:40]
    return EmulatorCredentials(key_id, secret)


def credentials_from_environment(environ: dict[str, str] | os._Environ[str] = os.environ) -> EmulatorCredentials | None:
    """The pair the caller chose, from EMULATOR_ACCESS_KEY_ID and EMULATOR_SECRET_ACCESS_KEY; None when unset."""
    key_id, secret = environ.get(ACCESS_KEY_ENV, ""), environ.get(SECRET_KEY_ENV, "")
    return EmulatorCredentials(key_id, secret) if key_id and secret else None


def component_keys_from_environment(
        environ: dict[str, str] | os._Environ[str] = os.environ) -> dict[str, EmulatorCredentials]:
    """The components' keys the caller chose (EMULATOR_COMPONENT_KEYS), by component; empty when unset.

    Raises ValueError when the variable is not a JSON object of complete key pairs."""
    text = environ.get(COMPONENT_KEYS_ENV, "")
    if not text:
        return {}
    keys = json.loads(text)
    if not isinstance(keys, dict):
        raise ValueError(f"{COMPONENT_KEYS_ENV} is not a JSON object")
    out = {}
    for component, pair in keys.items():
        key_id, secret = (pair or {}).get("accessKeyId", ""), (pair or {}).get("secretAccessKey", "")
        if not key_id or not secret:
            raise ValueError(f"{COMPONENT_KEYS_ENV}: the key of {component!r} lacks its id or its secret")
        out[str(component)] = EmulatorCredentials(key_id, secret)
    return out


class AuthError(Exception):
    """A refused request: `kind` is one of missing, unknown-key, bad-signature, expired, presign-expired,
    presign-expires-invalid, content-sha256-mismatch, bad-digest, incomplete-body."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(detail or kind)
        self.kind = kind
        self.detail = detail


# (code, message) per kind of refusal, in the three error formats AWS services answer with.
_S3_ERRORS = {
    "missing": ("AccessDenied", "Access Denied"),
    "unknown-key": ("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."),
    "bad-signature": ("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you "
                                               "provided. Check your key and signing method."),
    "expired": ("RequestTimeTooSkewed", "The difference between the request time and the current time is too large."),
    "presign-expired": ("AccessDenied", "Request has expired"),
    "presign-expires-invalid": ("AuthorizationQueryParametersError",
                                "X-Amz-Expires must be less than a week (in seconds) that is; 604800"),
    # Amazon S3 error responses (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html): these
    # three are 400 Bad Request, not 403.
    "content-sha256-mismatch": ("XAmzContentSHA256Mismatch",
                                "The provided 'x-amz-content-sha256' header does not match what was computed."),
    "bad-digest": ("BadDigest", "The Content-MD5 or checksum value that you specified did not match what the "
                                "server received."),
    "incomplete-body": ("IncompleteBody", "You did not provide the number of bytes specified by the "
                                          "Content-Length HTTP header."),
}
_BAD_REQUEST_KINDS = frozenset({"presign-expires-invalid", "content-sha256-mismatch", "bad-digest", "incomplete-body"})
_QUERY_ERRORS = {
    "missing": ("MissingAuthenticationToken", "Request is missing Authentication Token"),
    "unknown-key": ("InvalidClientTokenId", "The security token included in the request is invalid."),
    "bad-signature": ("SignatureDoesNotMatch", _S3_ERRORS["bad-signature"][1]),
    "expired": ("RequestExpired", "Request has expired."),
    "presign-expired": ("RequestExpired", "Request has expired."),
}
_JSON_ERRORS = {
    "missing": ("MissingAuthenticationTokenException", "Missing Authentication Token"),
    "unknown-key": ("UnrecognizedClientException", "The security token included in the request is invalid."),
    "bad-signature": ("InvalidSignatureException", _S3_ERRORS["bad-signature"][1]),
    "expired": ("InvalidSignatureException", "Signature expired: the request is dated more than 15 minutes away "
                                             "from the current time."),
    "presign-expired": ("InvalidSignatureException", "Signature expired."),
}


def _header(environ: dict[str, Any], name: str) -> str | None:
    key = name.upper().replace("-", "_")
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return environ.get(key)
    return environ.get(f"HTTP_{key}")


def _wsgi_text(value: str) -> str:
    """WSGI hands header values and paths over as latin-1 text of the raw bytes; clients signed them as UTF-8."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(raw_query: str, exclude: Iterable[str] = ()) -> str:
    """The query string in SigV4's canonical form: each name and value decoded, encoded again, sorted.

    A `+` in the query is a space, as AWS reads it: the AWS SDK for Java sends spaces so and signs them as `%20`.
    """
    excluded = set(exclude)
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        name, value = unquote_plus(name), unquote_plus(value)
        if name in excluded:
            continue
        pairs.append((_uri_encode(name), _uri_encode(value)))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def canonical_path(raw_path: str, service: str) -> str:
    """S3 signs the path as sent; every other service its normalised form, encoded once more."""
    path = raw_path or "/"
    if service == "s3":
        return path
    return quote(normalize_url_path(path), safe="/~")


def _parse_amz_date(value: str) -> float:
    return dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC).timestamp()


class SigV4Verifier:
    """WSGI middleware: passes a request to `app` only when it carries a valid SigV4 signature of `credentials` or
    of one of the components' keys (`components`, by component name).

    A request signed with a component's key is handed to `call_log` (call_log.CallLog) before it reaches moto, so
    every call a component makes is recorded with the component that made it; the instance's own key (the operator
    CLI's and the tests') is not recorded.
    """

    def __init__(self, app: Callable[..., Any], credentials: EmulatorCredentials,
                 clock: Callable[[], float] = time.time, components: dict[str, EmulatorCredentials] | None = None,
                 call_log: Any = None) -> None:
        self.app = app
        self.credentials = credentials
        self.clock = clock
        self.components = dict(components or {})
        self.call_log = call_log

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            component, service, region = self.verify(environ)
        except AuthError as refused:
            LOG.warning("refused %s %s: %s", environ.get("REQUEST_METHOD"),
                        environ.get("RAW_URI") or environ.get("PATH_INFO"), refused.detail or refused.kind)
            return _refusal(environ, refused, start_response)
        if component is not None and self.call_log is not None:
            self.call_log.record(component, environ, service, region, self._recorded_body(environ, service))
        return self.app(environ, start_response)

    @staticmethod
    def _recorded_body(environ: dict[str, Any], service: str) -> bytes:
        """The body the call log reads: every service's but S3's, where only DeleteObjects (the keys) matters."""
        if service != "s3":
            return _buffer_body(environ)
        if environ.get("REQUEST_METHOD", "").upper() == "POST" and "delete" in environ.get("QUERY_STRING", ""):
            return _buffer_body(environ)
        return b""

    def _key_of(self, key_id: str) -> tuple[str | None, EmulatorCredentials]:
        """The component (None: the instance's own key) and the key pair whose id is `key_id`."""
        if hmac.compare_digest(key_id.encode(), self.credentials.access_key_id.encode()):
            return None, self.credentials
        for component, credentials in self.components.items():
            if hmac.compare_digest(key_id.encode(), credentials.access_key_id.encode()):
                return component, credentials
        raise AuthError("unknown-key", f"access key id {key_id!r} is not this emulator's")

    def verify(self, environ: dict[str, Any]) -> tuple[str | None, str, str]:
        """Raises AuthError unless the request is signed with this instance's key or a component's; leaves the
        body readable. Returns the component whose key signed it (None for the instance's key), and the service
        and region of the signature's scope."""
        raw_path, raw_query = _request_target(environ)
        claim = _signature_claim(environ, raw_query)
        component, credentials = self._key_of(claim.key_id)
        date, region, service = self._check_scope_and_time(claim)

        signed_headers = claim.signed.split(";")
        if "host" not in signed_headers:
            raise AuthError("bad-signature", "the Host header is not signed")
        payload_hash = claim.payload_hash
        if payload_hash is None or service != "s3":  # only S3 takes the client's word, and then checks it
            payload_hash = hashlib.sha256(_buffer_body(environ)).hexdigest()
        canonical_headers = "".join(
            f"{name}:{' '.join(_wsgi_text(_header(environ, name) or '').split())}\n" for name in signed_headers)
        canonical_request = "\n".join([
            environ.get("REQUEST_METHOD", "GET").upper(),
            canonical_path(_wsgi_text(raw_path), service),
            canonical_query(raw_query, claim.query_exclude),
            canonical_headers,
            claim.signed,
            payload_hash,
        ])
        string_to_sign = "\n".join([
            ALGORITHM, claim.amz_date, claim.scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()])
        expected = _signature(credentials, date, region, service, string_to_sign)
        if not hmac.compare_digest(expected, claim.signature):
            LOG.debug("canonical request:\n%s", canonical_request)
            raise AuthError("bad-signature", "the signature does not match")
        if service == "s3" and claim.payload_hash is not None:
            _PayloadCheck(credentials, claim, date, region, expected).check(environ)
        return component, service, region

    def _check_scope_and_time(self, claim: _SignatureClaim) -> tuple[str, str, str]:
        """The claim's scope is well formed and its date within the allowed skew (or its presigned URL unexpired);
        returns the scope's date, region and service."""
        scope_parts = claim.scope.split("/")
        if len(scope_parts) != 4 or scope_parts[3] != "aws4_request":
            raise AuthError("bad-signature", f"malformed credential scope {claim.scope!r}")
        date, region, service, _ = scope_parts
        try:
            signed_at = _parse_amz_date(claim.amz_date)
        except ValueError:
            raise AuthError("bad-signature", "no valid X-Amz-Date") from None
        if claim.amz_date[:8] != date:
            raise AuthError("bad-signature", "the credential scope's date is not the request's")
        now = self.clock()
        expires = claim.expires
        if expires is not None:
            if not expires.isdigit() or not 1 <= int(expires) <= MAX_PRESIGNED_EXPIRES_SECONDS:
                raise AuthError("presign-expires-invalid", f"X-Amz-Expires {expires!r} is not from 1 to 604800")
            if now > signed_at + int(expires) or signed_at > now + MAX_SKEW_SECONDS:
                raise AuthError("presign-expired", "the presigned URL has expired")
        elif abs(now - signed_at) > MAX_SKEW_SECONDS:
            raise AuthError("expired", "the request is dated more than 15 minutes away from now")
        return date, region, service


@dataclass(frozen=True)
class _SignatureClaim:
    """What a request says about its signature, from its Authorization header or its presigned URL's query."""

    credential: str
    signed: str
    signature: str
    amz_date: str
    payload_hash: str | None  # None: the body's hash, computed from the body
    query_exclude: tuple[str, ...]
    expires: str | None  # a presigned URL's X-Amz-Expires

    @property
    def key_id(self) -> str:
        return self.credential.partition("/")[0]

    @property
    def scope(self) -> str:
        return self.credential.partition("/")[2]


def _request_target(environ: dict[str, Any]) -> tuple[str, str]:
    """The request's path and query as the client sent them (before any decoding)."""
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", "/"))
    raw_path, _, raw_query = raw_uri.partition("?")
    if not raw_query:
        raw_query = environ.get("QUERY_STRING", "")
    if "://" in raw_path:  # an absolute-form request target: the path is what follows the authority
        raw_path = "/" + raw_path.split("://", 1)[1].partition("/")[2]
    return raw_path, raw_query


def _signature_claim(environ: dict[str, Any], raw_query: str) -> _SignatureClaim:
    """The signature a request carries in its Authorization header or, presigned, in its query; AuthError if none."""
    query_names = {unquote(part.partition("=")[0]) for part in raw_query.split("&") if part}
    authorization = _header(environ, "Authorization")
    if authorization is not None:
        match = _AUTHORIZATION.match(authorization.strip())
        if match is None:
            raise AuthError("bad-signature" if authorization.startswith(ALGORITHM) else "missing",
                            "the Authorization header is not AWS Signature Version 4")
        return _SignatureClaim(
            credential=match["credential"], signed=match["signed"], signature=match["signature"],
            amz_date=_header(environ, "X-Amz-Date") or "", payload_hash=_header(environ, "X-Amz-Content-SHA256"),
            query_exclude=(), expires=None)
    if "X-Amz-Signature" in query_names and "X-Amz-Credential" in query_names:
        params = {unquote(name): unquote(value) for name, _, value in
                  (part.partition("=") for part in raw_query.split("&") if part)}
        if params.get("X-Amz-Algorithm") != ALGORITHM:
            raise AuthError("bad-signature", "only AWS4-HMAC-SHA256 presigned URLs are accepted")
        return _SignatureClaim(
            credential=params["X-Amz-Credential"], signed=params.get("X-Amz-SignedHeaders", ""),
            signature=params["X-Amz-Signature"], amz_date=params.get("X-Amz-Date", ""),
            payload_hash="UNSIGNED-PAYLOAD", query_exclude=("X-Amz-Signature",), expires=params.get("X-Amz-Expires"))
    raise AuthError("missing", "the request is not signed")


class _PayloadCheck:
    """Holds an S3 request's body to the payload hash its signature covers (see the module's docstring)."""

    def __init__(self, credentials: EmulatorCredentials, claim: _SignatureClaim, date: str, region: str,
                 seed_signature: str) -> None:
        self.credentials = credentials
        self.claim = claim
        self.date = date
        self.region = region
        self.seed_signature = seed_signature

    def check(self, environ: dict[str, Any]) -> None:
        declared = cast(str, self.claim.payload_hash)
        if declared == UNSIGNED_PAYLOAD:
            return
        if _HEX_SHA256.match(declared):
            if not hmac.compare_digest(hashlib.sha256(_buffer_body(environ)).hexdigest(), declared.lower()):
                raise AuthError("content-sha256-mismatch", "the body's SHA-256 is not the signed x-amz-content-sha256")
            return
        if declared not in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER):
            raise AuthError("bad-signature", f"x-amz-content-sha256 {declared!r} is not accepted here")
        signed = declared != STREAMING_UNSIGNED_TRAILER
        chunks, trailer = _decode_aws_chunked(_buffer_body(environ), signed)
        if signed:
            previous = self.seed_signature
            for data, chunk_signature in chunks:
                previous = self._check_chunk(previous, data, chunk_signature)
            if declared == STREAMING_SIGNED_TRAILER:
                self._check_trailer_signature(previous, trailer)
        declared_length = _header(environ, "X-Amz-Decoded-Content-Length")
        decoded = b"".join(data for data, _ in chunks)
        if declared_length is None or not declared_length.isdigit() or int(declared_length) != len(decoded):
            raise AuthError("incomplete-body", f"decoded {len(decoded)} bytes, x-amz-decoded-content-length is "
                                               f"{declared_length!r}")
        if declared != STREAMING_SIGNED:
            self._check_trailer_checksum(_header(environ, "X-Amz-Trailer"), trailer, decoded)

    def _sign(self, string_to_sign: str) -> str:
        return _signature(self.credentials, self.date, self.region, "s3", string_to_sign)

    def _check_chunk(self, previous: str, data: bytes, chunk_signature: str | None) -> str:
        expected = self._sign("\n".join([
            "AWS4-HMAC-SHA256-PAYLOAD", self.claim.amz_date, self.claim.scope, previous, _EMPTY_SHA256,
            hashlib.sha256(data).hexdigest()]))
        if chunk_signature is None or not hmac.compare_digest(expected, chunk_signature):
            raise AuthError("bad-signature", "a chunk's signature does not match")
        return expected

    def _check_trailer_signature(self, previous: str, trailer: list[tuple[str, str]]) -> None:
        signature = dict(trailer).get("x-amz-trailer-signature")
        canonical = "".join(f"{name}:{value}\n" for name, value in trailer if name != "x-amz-trailer-signature")
        expected = self._sign("\n".join([
            "AWS4-HMAC-SHA256-TRAILER", self.claim.amz_date, self.claim.scope, previous,
            hashlib.sha256(canonical.encode("utf-8")).hexdigest()]))
        if signature is None or not hmac.compare_digest(expected, signature):
            raise AuthError("bad-signature", "the trailer's signature does not match")

    @staticmethod
    def _check_trailer_checksum(announced: str | None, trailer: list[tuple[str, str]], decoded: bytes) -> None:
        """The trailer carries the checksum `x-amz-trailer` announced, and it is the decoded bytes' checksum."""
        name = (announced or "").strip().lower()
        values = dict(trailer)
        if not name.startswith("x-amz-checksum-") or name not in values:
            raise AuthError("incomplete-body", f"x-amz-trailer {announced!r} is not a checksum the trailer holds")
        try:
            computed = checksums.checksum(decoded, name.removeprefix("x-amz-checksum-"))
        except KeyError:
            raise AuthError("bad-digest", f"unknown checksum algorithm in {name}") from None
        if not hmac.compare_digest(computed, values[name]):
            raise AuthError("bad-digest", f"{name} in the trailer does not match the body")


def _decode_aws_chunked(body: bytes, signed: bool) -> tuple[list[tuple[bytes, str | None]], list[tuple[str, str]]]:
    """The chunks (data, chunk signature) of an aws-chunked body, the final zero-length one included, and the
    trailer's headers (lower-case names): `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n` ... `0...\r\n`
    then the trailer lines and an empty line."""
    chunks: list[tuple[bytes, str | None]] = []
    position = 0
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            raise AuthError("incomplete-body", "the aws-chunked body ends inside a chunk header")
        size_text, _, extension = body[position:line_end].decode("latin-1").partition(";")
        try:
            size = int(size_text, 16)
        except ValueError:
            raise AuthError("incomplete-body", f"bad chunk size {size_text!r}") from None
        chunk_signature = extension.removeprefix("chunk-signature=") if extension.startswith("chunk-signature=") \
            else None
        if signed and chunk_signature is None:
            raise AuthError("bad-signature", "a chunk carries no chunk-signature")
        start = line_end + 2
        if start + size > len(body) or (size and body[start + size:start + size + 2] != b"\r\n"):
            raise AuthError("incomplete-body", "the aws-chunked body ends inside a chunk")
        chunks.append((body[start:start + size], chunk_signature))
        if size == 0:
            break
        position = start + size + 2
    trailer = []
    for line in body[start:].decode("latin-1").splitlines():
        if line.strip():
            name, separator, value = line.partition(":")
            if not separator:
                raise AuthError("incomplete-body", "a trailer line is not a header")
            trailer.append((name.strip().lower(), value.strip()))
    return chunks, trailer


def _signature(credentials: EmulatorCredentials, date: str, region: str, service: str, string_to_sign: str) -> str:
    """botocore's SigV4 signing key derivation and HMAC, for the scope the client named."""
    signer = SigV4Auth(BotocoreCredentials(credentials.access_key_id, credentials.secret_access_key), service, region)
    # SigV4Auth.signature reads only the date of the request's timestamp, from its context.
    return cast(str, signer.signature(string_to_sign, SimpleNamespace(context={"timestamp": f"{date}T000000Z"})))


def _buffer_body(environ: dict[str, Any]) -> bytes:
    """Reads the body to hash it and puts it back for moto."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _protocol(environ: dict[str, Any]) -> str:
    """Which error format the caller's SDK parses: json (X-Amz-Target), s3 (REST-XML) or query (Action=...)."""
    content_type = (_header(environ, "Content-Type") or "").lower()
    if _header(environ, "X-Amz-Target") or content_type.startswith("application/x-amz-json"):
        return "json"
    authorization = _header(environ, "Authorization") or ""
    scope_service = re.search(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/", authorization + " " +
                              unquote(environ.get("QUERY_STRING", "")).replace("X-Amz-Credential=", "Credential="))
    if scope_service:
        return "s3" if scope_service[1] == "s3" else "query"
    if content_type.startswith("application/x-www-form-urlencoded") or "Action=" in environ.get("QUERY_STRING", ""):
        return "query"
    return "s3"


def _refusal(environ: dict[str, Any], error: AuthError, start_response: Callable[..., Any]) -> list[bytes]:
    request_id = str(uuid.uuid4())
    protocol = _protocol(environ)
    if protocol == "json":
        code, message = _JSON_ERRORS.get(error.kind, _JSON_ERRORS["bad-signature"])
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-ErrorType", code),
                   ("x-amzn-RequestId", request_id)]
    elif protocol == "s3":
        code, message = _S3_ERRORS[error.kind]
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
                f"<RequestId>{request_id}</RequestId></Error>").encode()
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    else:
        code, message = _QUERY_ERRORS.get(error.kind, _QUERY_ERRORS["bad-signature"])
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>").encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    status = "400 Bad Request" if error.kind in _BAD_REQUEST_KINDS else "403 Forbidden"
    start_response(status, headers + [("Content-Length", str(len(body)))])
    return [body]


def sign_internal_clients(credentials: EmulatorCredentials) -> None:
    """moto's Step Functions interpreter calls the other services over HTTP with a fixed dummy key (`ak`/`sk`):
    its one client factory gets `credentials` instead (the state machine's key when the local mode gives it one),
    so the state machine's tasks, the `.sync` Glue task's polling included, pass the check and are recorded as the
    state machine's calls."""
    import boto3  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.utils import boto_client  # noqa: PLC0415

    class _SignedBoto3:
        @staticmethod
        def client(*args: Any, **kwargs: Any) -> Any:
            kwargs.update(credentials.as_boto3_kwargs())
            return boto3.client(*args, **kwargs)

    boto_client.boto3 = _SignedBoto3  # type: ignore[attr-defined]
