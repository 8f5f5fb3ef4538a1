"""Only requests signed with this instance's key reach moto: AWS Signature Version 4, checked as AWS checks it.

moto's server accepts any request, and a Glue job run or a state machine it starts runs code: left open, whoever
can reach the port (another user of the machine, a web page through the browser) could use it. So each emulator
instance gets an access key id and secret of its own (`generate_credentials`, or the caller's through
`EMULATOR_ACCESS_KEY_ID` and `EMULATOR_SECRET_ACCESS_KEY`), and `SigV4Verifier`, a WSGI middleware in front of
moto, answers 403 in the service's own error format to a request that is unsigned, signed with another key, signed
wrongly, or dated more than 15 minutes away from now. Both forms of SigV4 are accepted: the `Authorization` header
and a presigned URL's query string. The signing key derivation and HMAC are botocore's; the canonical request
follows the SigV4 specification (S3 paths as sent, other services' paths normalised and encoded again; the
payload hash from `x-amz-content-sha256` when the client sends it, as S3 clients do, else the body's SHA-256).
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

from botocore.auth import SigV4Auth
from botocore.credentials import Credentials as BotocoreCredentials
from botocore.utils import normalize_url_path

ALGORITHM = "AWS4-HMAC-SHA256"
ACCESS_KEY_ENV = "EMULATOR_ACCESS_KEY_ID"
SECRET_KEY_ENV = "EMULATOR_SECRET_ACCESS_KEY"
# AWS refuses a request whose date is more than 15 minutes away from its clock.
MAX_SKEW_SECONDS = 15 * 60
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


class AuthError(Exception):
    """A refused request: `kind` is one of missing, unknown-key, bad-signature, expired."""

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
}
_QUERY_ERRORS = {
    "missing": ("MissingAuthenticationToken", "Request is missing Authentication Token"),
    "unknown-key": ("InvalidClientTokenId", "The security token included in the request is invalid."),
    "bad-signature": ("SignatureDoesNotMatch", _S3_ERRORS["bad-signature"][1]),
    "expired": ("RequestExpired", "Request has expired."),
}
_JSON_ERRORS = {
    "missing": ("MissingAuthenticationTokenException", "Missing Authentication Token"),
    "unknown-key": ("UnrecognizedClientException", "The security token included in the request is invalid."),
    "bad-signature": ("InvalidSignatureException", _S3_ERRORS["bad-signature"][1]),
    "expired": ("InvalidSignatureException", "Signature expired: the request is dated more than 15 minutes away "
                                             "from the current time."),
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
    """WSGI middleware: passes a request to `app` only when it carries a valid SigV4 signature of `credentials`."""

    def __init__(self, app: Callable[..., Any], credentials: EmulatorCredentials,
                 clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.credentials = credentials
        self.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            self.verify(environ)
        except AuthError as refused:
            LOG.warning("refused %s %s: %s", environ.get("REQUEST_METHOD"),
                        environ.get("RAW_URI") or environ.get("PATH_INFO"), refused.detail or refused.kind)
            return _refusal(environ, refused, start_response)
        return self.app(environ, start_response)

    def verify(self, environ: dict[str, Any]) -> None:
        """Raises AuthError unless the request is signed with this instance's key; leaves the body readable."""
        raw_path, raw_query = _request_target(environ)
        claim = _signature_claim(environ, raw_query)
        date, region, service = self._check_scope_and_time(claim)

        signed_headers = claim.signed.split(";")
        if "host" not in signed_headers:
            raise AuthError("bad-signature", "the Host header is not signed")
        payload_hash = claim.payload_hash
        if payload_hash is None:
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
        expected = _signature(self.credentials, date, region, service, string_to_sign)
        if not hmac.compare_digest(expected, claim.signature):
            LOG.debug("canonical request:\n%s", canonical_request)
            raise AuthError("bad-signature", "the signature does not match")

    def _check_scope_and_time(self, claim: _SignatureClaim) -> tuple[str, str, str]:
        """The claim's key is this instance's, its scope well formed and its date within the allowed skew (or its
        presigned URL unexpired); returns the scope's date, region and service."""
        if not hmac.compare_digest(claim.key_id.encode(), self.credentials.access_key_id.encode()):
            raise AuthError("unknown-key", f"access key id {claim.key_id!r} is not this emulator's")
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
            if not expires.isdigit() or now > signed_at + int(expires) or signed_at > now + MAX_SKEW_SECONDS:
                raise AuthError("expired", "the presigned URL has expired")
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
        code, message = _JSON_ERRORS[error.kind]
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-ErrorType", code),
                   ("x-amzn-RequestId", request_id)]
    elif protocol == "s3":
        code, message = _S3_ERRORS[error.kind]
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
                f"<RequestId>{request_id}</RequestId></Error>").encode()
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    else:
        code, message = _QUERY_ERRORS[error.kind]
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>").encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    start_response("403 Forbidden", headers + [("Content-Length", str(len(body)))])
    return [body]


def sign_internal_clients(credentials: EmulatorCredentials) -> None:
    """moto's Step Functions interpreter calls the other services over HTTP with a fixed dummy key (`ak`/`sk`):
    its one client factory gets this instance's key instead, so the state machine's tasks pass the check."""
    import boto3  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.utils import boto_client  # noqa: PLC0415

    class _SignedBoto3:
        @staticmethod
        def client(*args: Any, **kwargs: Any) -> Any:
            kwargs.update(credentials.as_boto3_kwargs())
            return boto3.client(*args, **kwargs)

    boto_client.boto3 = _SignedBoto3  # type: ignore[attr-defined]
