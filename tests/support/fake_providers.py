#!/usr/bin/python3
"""Fake social login providers for the tests: Facebook, Google, Twitter and LinkedIn.

One HTTP server on a free loopback port answers the provider endpoints a social login plugin
calls, under /facebook, /google, /twitter and /linkedin, the way each provider documents them
(Facebook's appsecret_proof, Google's JWKS and id tokens, Twitter's OAuth 1.0a signatures).
Tests drive it through POST /_control/<name> with JSON bodies: register apps and tokens (each
token with a mode that makes the provider misbehave), mint id tokens, rotate the signing key.
Every provider request is recorded for GET /_control/requests.

Control calls (400 with {"error": ...} when the input does not fit):
  apps        {"provider": "facebook", "app_id", "secret"} or
              {"provider": "twitter", "consumer_key", "consumer_secret"} or
              {"provider": "linkedin", "client_id", "client_secret"}
  tokens      {"provider", "token", "user": {...}, "app", "token_secret" (Twitter), "mode",
               "delay" (seconds, for slow; 5), "azp" (Google), "type" (Facebook: USER or
               PAGE)}. Modes: ok; expired (the provider's rejected-token answer); error500;
               rate_limited (429; Facebook: 400 with error code 4); garbage (200
               "<html>not json"); not_object (200 "false"); drip (200 with the user as JSON,
               one byte per 0.2 s); slow (answers after `delay`)
  id_token    {"claims": {...}, "kid", "alg" (RS256, none or HS256), "tamper"} -> {"id_token"}
  rotate_key  {} -> {"kid"}; the JWKS then holds only the new key
  reset       {} forgets the recorded requests
  requests    (GET) -> {"requests": [{"method", "path", "query", "headers"}], "jwks_fetches"}

With --cert and --key the same providers are also served over HTTPS on a second port.

Needs Debian's python3-cryptography (for the RSA key). Prints "port N" (and " tls M" with
--cert) once it listens, then
serves until stdin closes or it is terminated. --dir is a scratch directory; it is created but
nothing is written there yet.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PROVIDERS = ("facebook", "google", "twitter", "linkedin")
MODES = ("ok", "expired", "error500", "rate_limited", "garbage", "not_object", "slow", "drip")
TWITTER_CLOCK_SKEW = 300  # seconds an oauth_timestamp may be away from now
TOKEN_LIFETIME = 3600  # seconds, as reported by debug_token and tokeninfo


# ---- encoding helpers -------------------------------------------------------------------------

def b64url(data):
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def int_bytes(number):
    """An unsigned integer as big-endian bytes, no leading zeros."""
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def compact_json(value):
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def percent_encode(text):
    """RFC 3986 percent-encoding: only ALPHA DIGIT - . _ ~ stay as they are (RFC 5849 3.6)."""
    return urllib.parse.quote(text, safe="", encoding="utf-8")


# ---- answers ----------------------------------------------------------------------------------

class Answer:
    """What a handler sends back."""

    def __init__(self, status, body, content_type="application/json", headers=None, drip=0.0):
        self.drip = drip  # seconds between the body's bytes (0: all at once)
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.content_type = content_type
        self.headers = headers or {}


def json_answer(status, value, headers=None):
    return Answer(status, json.dumps(value), "application/json", headers)


def not_found():
    return json_answer(404, {"error": "not found"})


class BadControl(Exception):
    """A control request the fake cannot act on: answered 400."""


# ---- state ------------------------------------------------------------------------------------

class SigningKey:
    """An RSA key with its kid."""

    def __init__(self):
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)

    def jwk(self):
        numbers = self.private.public_key().public_numbers()
        return {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
                "n": b64url(int_bytes(numbers.n)), "e": b64url(int_bytes(numbers.e))}

    def modulus_bytes(self):
        return int_bytes(self.private.public_key().public_numbers().n)

    def sign(self, data):
        return self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())


class State:
    """Everything the fake knows; every access holds the lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.jwks_fetches = 0
        self.facebook_apps = {}  # app_id -> secret
        self.twitter_apps = {}  # consumer_key -> consumer_secret
        self.linkedin_apps = {}  # client_id -> client_secret
        self.tokens = {}  # (provider, token) -> token entry (a dict)
        self.twitter_nonces = set()  # (consumer_key, nonce)
        self.key = SigningKey()

    def record(self, entry):
        with self.lock:
            self.requests.append(entry)

    def token(self, provider, token):
        """The entry for `token`, or None."""
        with self.lock:
            entry = self.tokens.get((provider, token))
            return dict(entry) if entry else None

    def facebook_secret(self, app_id):
        with self.lock:
            return self.facebook_apps.get(app_id)

    def linkedin_secret(self, client_id):
        with self.lock:
            return self.linkedin_apps.get(client_id)

    def twitter_secret(self, consumer_key):
        with self.lock:
            return self.twitter_apps.get(consumer_key)

    def use_nonce(self, consumer_key, nonce):
        """False if the nonce was used before."""
        with self.lock:
            if (consumer_key, nonce) in self.twitter_nonces:
                return False
            self.twitter_nonces.add((consumer_key, nonce))
            return True

    def current_key(self):
        with self.lock:
            return self.key


STATE = State()


# ---- the request as the handlers see it --------------------------------------------------------

class Request:
    def __init__(self, method, target, headers, body):
        parts = urllib.parse.urlsplit(target)
        self.method = method
        self.path = parts.path
        self.raw_query = parts.query
        self.query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        self.headers = {name.lower(): value for name, value in headers.items()}
        self.body = body

    def summary(self):
        return {"method": self.method, "path": self.path, "query": self.query,
                "headers": self.headers}

    def bearer_token(self):
        """The token of an `Authorization: Bearer T` header, or None."""
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()


# ---- token modes ------------------------------------------------------------------------------

def usable(entry):
    """True if the token exists and has not expired."""
    return entry is not None and entry["mode"] != "expired"


def misbehaviour(entry, provider=""):
    """The broken answer a token's mode asks for, or None to answer normally (after any delay)."""
    mode = entry["mode"]
    if mode == "rate_limited" and provider == "facebook":
        # The Graph API reports its rate limits as 400 with error code 4 (application level).
        return facebook_error("(#4) Application request limit reached", "OAuthException", 4)
    if mode == "error500":
        return Answer(500, "<html><body><h1>500 Internal Server Error</h1></body></html>",
                      "text/html")
    if mode == "rate_limited":
        return Answer(429, '{"message": "Too many requests"}')
    if mode == "garbage":
        return Answer(200, "<html>not json", "text/html")
    if mode == "not_object":
        return Answer(200, "false")
    if mode == "drip":
        return Answer(200, json.dumps(entry["user"]), drip=0.2)
    if mode == "slow":
        time.sleep(entry["delay"])
    return None


# ---- Facebook ---------------------------------------------------------------------------------

def facebook_error(message, kind, code):
    return json_answer(400, {"error": {"message": message, "type": kind, "code": code}})


def facebook_invalid_token():
    return facebook_error("Invalid OAuth access token.", "OAuthException", 190)


def facebook_proof(secret, token):
    return hmac.new(secret.encode("utf-8"), token.encode("utf-8"), hashlib.sha256).hexdigest()


def facebook_access_token(request):
    """access_token from the query, or from an `Authorization: Bearer|OAuth T` header."""
    if "access_token" in request.query:
        return request.query["access_token"]
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "oauth"):
        return token.strip()
    return ""


def facebook_me(request):
    token = facebook_access_token(request)
    entry = STATE.token("facebook", token)
    if not usable(entry):
        return facebook_invalid_token()
    secret = STATE.facebook_secret(entry["app"])
    proof = request.query.get("appsecret_proof", "")
    if secret is None or not hmac.compare_digest(proof, facebook_proof(secret, token)):
        return facebook_error("Invalid appsecret_proof provided in the API argument",
                              "GraphMethodException", 100)
    broken = misbehaviour(entry, "facebook")
    if broken:
        return broken
    wanted = [name.strip() for name in request.query.get("fields", "id,name").split(",")]
    user = entry["user"]
    return json_answer(200, {name: user[name] for name in wanted if name in user})


def facebook_debug_token(request):
    app_id, _, app_secret = request.query.get("access_token", "").partition("|")
    known_secret = STATE.facebook_secret(app_id)
    if known_secret is None or not hmac.compare_digest(known_secret, app_secret):
        return facebook_invalid_token()
    entry = STATE.token("facebook", request.query.get("input_token", ""))
    if entry is None:
        return json_answer(200, {"data": {"is_valid": False, "error": {
            "code": 190, "message": "Invalid OAuth access token."}}})
    broken = misbehaviour(entry, "facebook")
    if broken:
        return broken
    expired = entry["mode"] == "expired"
    expires_at = int(time.time()) + (-TOKEN_LIFETIME if expired else TOKEN_LIFETIME)
    return json_answer(200, {"data": {
        "app_id": entry["app"], "type": entry["type"], "is_valid": not expired,
        "user_id": entry["user"].get("id"), "expires_at": expires_at}})


# ---- Google -----------------------------------------------------------------------------------

def google_userinfo(request):
    entry = STATE.token("google", request.bearer_token() or "")
    if not usable(entry):
        return json_answer(401, {"error": "invalid_request", "error_description":
                                 "Invalid Credentials"},
                           {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                                                'error="invalid_token"'})
    broken = misbehaviour(entry)
    if broken:
        return broken
    return json_answer(200, entry["user"])


def google_tokeninfo(request):
    entry = STATE.token("google", request.query.get("access_token", ""))
    if not usable(entry):
        return json_answer(400, {"error": "invalid_token", "error_description": "Invalid Value"})
    broken = misbehaviour(entry)
    if broken:
        return broken
    user = entry["user"]
    info = {"azp": entry["azp"] or entry["app"], "aud": entry["app"],
            "scope": "openid email profile",
            "exp": str(int(time.time()) + TOKEN_LIFETIME), "expires_in": str(TOKEN_LIFETIME - 1)}
    if "sub" in user:
        info["sub"] = user["sub"]
    if "email" in user:
        info["email"] = user["email"]
        verified = user.get("email_verified") in (True, "true")
        info["email_verified"] = "true" if verified else "false"
    return json_answer(200, info)


def google_certs(request):
    with STATE.lock:
        STATE.jwks_fetches += 1
        key = STATE.key
    return json_answer(200, {"keys": [key.jwk()]},
                       {"Cache-Control": "public, max-age=3600"})


# ---- Twitter (OAuth 1.0a, RFC 5849) -----------------------------------------------------------

def twitter_error(code, message):
    return json_answer(401, {"errors": [{"code": code, "message": message}]})


def twitter_not_authenticated():
    return twitter_error(32, "Could not authenticate you.")


def twitter_invalid_token():
    return twitter_error(89, "Invalid or expired token.")


OAUTH_PARAMETER = re.compile(r'\s*([^=\s]+)\s*=\s*"([^"]*)"\s*')
OAUTH_REQUIRED = ("oauth_consumer_key", "oauth_nonce", "oauth_signature",
                  "oauth_signature_method", "oauth_timestamp", "oauth_token")


def parse_oauth_header(value):
    """The parameters of an `Authorization: OAuth k="v", ...` header, decoded; None if malformed."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "oauth":
        return None
    parameters = {}
    for item in rest.split(","):
        match = OAUTH_PARAMETER.fullmatch(item)
        if not match:
            return None
        name = urllib.parse.unquote(match.group(1))
        if name in parameters:
            return None
        parameters[name] = urllib.parse.unquote(match.group(2))
    if any(name not in parameters for name in OAUTH_REQUIRED):
        return None
    if parameters.get("oauth_version", "1.0") != "1.0":
        return None
    return parameters


def base_string_uri(request):
    """RFC 5849 3.4.1.2, with the host and port from the Host header."""
    host = request.headers.get("host", "").lower()
    if host.endswith(":80"):
        host = host[:-3]
    return "http://" + host + request.path


def normalized_parameters(request, oauth):
    """RFC 5849 3.4.1.3.2: query and oauth_* parameters, encoded, sorted, joined."""
    pairs = urllib.parse.parse_qsl(request.raw_query, keep_blank_values=True)
    pairs += [(name, value) for name, value in oauth.items()
              if name.startswith("oauth_") and name != "oauth_signature"]
    encoded = sorted((percent_encode(name), percent_encode(value)) for name, value in pairs)
    return "&".join(name + "=" + value for name, value in encoded)


def oauth_signature(request, oauth, consumer_secret, token_secret):
    """RFC 5849 3.4.1 and 3.4.2: HMAC-SHA1 over the signature base string, base64."""
    base = "&".join([request.method.upper(), percent_encode(base_string_uri(request)),
                     percent_encode(normalized_parameters(request, oauth))])
    key = percent_encode(consumer_secret) + "&" + percent_encode(token_secret)
    digest = hmac.new(key.encode("utf-8"), base.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def timestamp_fresh(text):
    return text.isdigit() and abs(int(text) - time.time()) <= TWITTER_CLOCK_SKEW


def twitter_verify_credentials(request):
    oauth = parse_oauth_header(request.headers.get("authorization", ""))
    if oauth is None:
        return twitter_not_authenticated()
    consumer_key = oauth["oauth_consumer_key"]
    consumer_secret = STATE.twitter_secret(consumer_key)
    if consumer_secret is None or oauth["oauth_signature_method"] != "HMAC-SHA1":
        return twitter_not_authenticated()
    if not timestamp_fresh(oauth["oauth_timestamp"]):
        return twitter_not_authenticated()
    entry = STATE.token("twitter", oauth["oauth_token"])
    if not usable(entry):
        return twitter_invalid_token()
    expected = oauth_signature(request, oauth, consumer_secret, entry["token_secret"])
    if entry["app"] != consumer_key or not hmac.compare_digest(oauth["oauth_signature"],
                                                               expected):
        return twitter_not_authenticated()
    if not STATE.use_nonce(consumer_key, oauth["oauth_nonce"]):
        return twitter_not_authenticated()
    broken = misbehaviour(entry)
    if broken:
        return broken
    user = dict(entry["user"])
    if request.query.get("include_email") != "true":
        user.pop("email", None)  # Twitter only sends it when asked
    return json_answer(200, user)


# ---- LinkedIn ---------------------------------------------------------------------------------

def linkedin_userinfo(request):
    entry = STATE.token("linkedin", request.bearer_token() or "")
    if not usable(entry):
        return json_answer(401, {"status": 401, "serviceErrorCode": 65600,
                                 "code": "INVALID_ACCESS_TOKEN",
                                 "message": "Invalid access token"})
    broken = misbehaviour(entry)
    if broken:
        return broken
    return json_answer(200, entry["user"])


def linkedin_introspect(request):
    """POST /oauth/v2/introspectToken, a form with client_id, client_secret and token."""
    form = dict(urllib.parse.parse_qsl(request.body.decode("utf-8", "replace"),
                                       keep_blank_values=True))
    secret = STATE.linkedin_secret(form.get("client_id", ""))
    if secret is None or not hmac.compare_digest(secret, form.get("client_secret", "")):
        return json_answer(401, {"error": "invalid_client",
                                 "error_description": "Client authentication failed"})
    entry = STATE.token("linkedin", form.get("token", ""))
    if entry is None:
        return json_answer(200, {"active": False})
    now = int(time.time())
    if entry["mode"] == "expired":
        return json_answer(200, {"active": False, "status": "expired"})
    return json_answer(200, {"active": True, "client_id": entry["app"], "status": "active",
                             "authorized_at": now - 60, "created_at": now - 60,
                             "expires_at": now + TOKEN_LIFETIME, "scope": "openid,profile,email",
                             "auth_type": "3L"})


PROVIDER_POST_ROUTES = {
    "/linkedin/oauth/v2/introspectToken": linkedin_introspect,
}

PROVIDER_ROUTES = {
    "/facebook/me": facebook_me,
    "/facebook/debug_token": facebook_debug_token,
    "/google/oauth2/v3/userinfo": google_userinfo,
    "/google/tokeninfo": google_tokeninfo,
    "/google/oauth2/v3/certs": google_certs,
    "/twitter/1.1/account/verify_credentials.json": twitter_verify_credentials,
    "/linkedin/v2/userinfo": linkedin_userinfo,
}

FACEBOOK_VERSION = re.compile(r"^/facebook/v\d+(\.\d+)?/")


def provider_route(path):
    """The handler for a provider path; Graph API paths may carry a version (/facebook/v19.0/me)."""
    path = FACEBOOK_VERSION.sub("/facebook/", path)
    return PROVIDER_ROUTES.get(path)


# ---- control ----------------------------------------------------------------------------------

def text_field(body, name, default=None):
    value = body.get(name, default)
    if not isinstance(value, str):
        raise BadControl(f"'{name}' must be a string")
    return value


def control_apps(body):
    provider = body.get("provider")
    if provider == "facebook":
        app_id, secret = text_field(body, "app_id"), text_field(body, "secret")
        with STATE.lock:
            STATE.facebook_apps[app_id] = secret
    elif provider == "twitter":
        key, secret = text_field(body, "consumer_key"), text_field(body, "consumer_secret")
        with STATE.lock:
            STATE.twitter_apps[key] = secret
    elif provider == "linkedin":
        client_id, secret = text_field(body, "client_id"), text_field(body, "client_secret")
        with STATE.lock:
            STATE.linkedin_apps[client_id] = secret
    else:
        raise BadControl("'provider' must be facebook, twitter or linkedin")
    return {"ok": True}


def control_tokens(body):
    provider = body.get("provider")
    if provider not in PROVIDERS:
        raise BadControl("'provider' must be one of " + ", ".join(PROVIDERS))
    if not isinstance(body.get("user"), dict):
        raise BadControl("'user' must be an object")
    mode = text_field(body, "mode", "ok")
    if mode not in MODES:
        raise BadControl("'mode' must be one of " + ", ".join(MODES))
    delay = body.get("delay", 5)
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
        raise BadControl("'delay' must be a number of seconds")
    azp = body.get("azp")
    if azp is not None and not isinstance(azp, str):
        raise BadControl("'azp' must be a string")
    entry = {"user": body["user"], "app": text_field(body, "app", ""),
             "token_secret": text_field(body, "token_secret", ""), "mode": mode,
             "delay": delay, "azp": azp, "type": text_field(body, "type", "USER")}
    token = text_field(body, "token")
    with STATE.lock:
        STATE.tokens[(provider, token)] = entry
    return {"ok": True}


def control_id_token(body):
    claims = body.get("claims")
    if not isinstance(claims, dict):
        raise BadControl("'claims' must be an object")
    alg = text_field(body, "alg", "RS256")
    if alg not in ("RS256", "none", "HS256"):
        raise BadControl("'alg' must be RS256, none or HS256")
    key = STATE.current_key()
    header = {"alg": alg, "kid": text_field(body, "kid", key.kid), "typ": "JWT"}
    signing_input = b64url(compact_json(header)) + "." + b64url(compact_json(claims))
    signature = b""
    if alg == "RS256":
        signature = key.sign(signing_input.encode("ascii"))
    elif alg == "HS256":
        signature = hmac.new(key.modulus_bytes(), signing_input.encode("ascii"),
                             hashlib.sha256).digest()
    encoded = b64url(signature)
    if body.get("tamper") is True and encoded:
        # The first character: the last one may only carry padding bits a decoder ignores.
        encoded = ("B" if encoded[0] == "A" else "A") + encoded[1:]
    return {"id_token": signing_input + "." + encoded}


def control_rotate_key(body):
    key = SigningKey()
    with STATE.lock:
        STATE.key = key
    return {"kid": key.kid}


def control_reset(body):
    with STATE.lock:
        STATE.requests = []
        STATE.jwks_fetches = 0
    return {"ok": True}


CONTROL_POSTS = {
    "/_control/apps": control_apps,
    "/_control/tokens": control_tokens,
    "/_control/id_token": control_id_token,
    "/_control/rotate_key": control_rotate_key,
    "/_control/reset": control_reset,
}


def control(request):
    if request.method == "GET" and request.path == "/_control/requests":
        with STATE.lock:
            return json_answer(200, {"requests": list(STATE.requests),
                                     "jwks_fetches": STATE.jwks_fetches})
    action = CONTROL_POSTS.get(request.path)
    if request.method != "POST" or action is None:
        return not_found()
    try:
        body = json.loads(request.body or b"{}")
        if not isinstance(body, dict):
            raise BadControl("the body must be a JSON object")
        return json_answer(200, action(body))
    except (ValueError, BadControl) as error:
        return json_answer(400, {"error": str(error)})


# ---- HTTP -------------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def handle_any(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        request = Request(method, self.path, self.headers, body)
        if request.path.startswith("/_control/"):
            answer = control(request)
        else:
            STATE.record(request.summary())
            if method == "POST":
                route = PROVIDER_POST_ROUTES.get(request.path)
            else:
                route = provider_route(request.path) if method == "GET" else None
            answer = route(request) if route else not_found()
        self.send(answer)

    def send(self, answer):
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not answer.drip:
            self.wfile.write(answer.body)
            return
        try:
            for i in range(len(answer.body)):
                self.wfile.write(answer.body[i:i + 1])
                self.wfile.flush()
                time.sleep(answer.drip)
        except OSError:
            pass  # the client gave up


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # never wait for a slow handler when stopping
    request_queue_size = 128  # the default backlog of 5 drops SYNs when tests log in at once


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--cert", help="also serve HTTPS with this certificate (and --key)")
    parser.add_argument("--key")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    servers = [Server(("127.0.0.1", 0), Handler)]
    line = f"port {servers[0].server_address[1]}"
    if args.cert:
        # The same providers over TLS on a second port (control calls stay on the first).
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        secure = Server(("127.0.0.1", 0), Handler)
        secure.socket = context.wrap_socket(secure.socket, server_side=True)
        servers.append(secure)
        line += f" tls {secure.server_address[1]}"
    for server in servers:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()
    print(line, flush=True)
    try:
        sys.stdin.read()
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
