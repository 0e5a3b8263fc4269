"""A batchflow client in Python's standard library only (urllib, hashlib, json, time).

It signs every call the way the EnOS API gateway does (contract section 9, reference section 3.2):

1. Get an access token: POST /apim-token-service/v2.0/token/get with the JSON body
       {"appKey": ACCESS_KEY, "encryption": sha256_hex(ACCESS_KEY + timestamp + SECRET_KEY), "timestamp": timestamp}
   where timestamp is the current time in epoch milliseconds (an integer; its decimal digits are hashed).
   The answer is {"status": 0, "msg": "SUCCESS", "data": {"accessToken": ..., "expire": seconds}}.

2. Sign each API call with three headers:
       apim-accesstoken: the access token
       apim-timestamp:   epoch milliseconds (decimal), a new one for every request
       apim-signature:   sha256_hex(accessToken + paramsData + rawBody + timestamp + SECRET_KEY)
   paramsData: the query parameters sorted by key, each written key + value with the value as it is
   before URL-encoding (the service URL-decodes what it receives), concatenated with no separator.
   rawBody: the body's bytes exactly as sent (nothing for a GET). Serialize the body once, sign those
   bytes and send those same bytes: the service never re-serializes, so spacing, key order and
   snake_case keys are all fine as long as what is signed is what is sent.
   sha256_hex: lowercase hexadecimal SHA-256 of the UTF-8 bytes.

The service refuses a signature it has seen before (a replay), so two identical requests in the same
millisecond must carry different timestamps: this client never reuses one.

Two worked examples (vectors computed from the algorithm; check your own implementation against them):
    accessToken "tok", appSecret "sec", timestamp "1700000000000",
    GET ...?action=get&flowId=42&userId=u1&orgId=o1 (no body)
        paramsData     = "actiongetflowId42orgIdo1userIdu1"
        apim-signature = sha256_hex("tok" + paramsData + "" + "1700000000000" + "sec")
                       = "f737063ac0e578e42f68fdc4b16ac08edf88aa9dfd1754e4a6173b2ffcb4875a"
    accessToken "tok", appSecret "sec", timestamp "1700000000001",
    POST ...?action=trigger&userId=u1&orgId=o1 with the body {"flowId": 42, "triggerTime": 1700000000000}
        paramsData     = "actiontriggerorgIdo1userIdu1"
        apim-signature = sha256_hex("tok" + paramsData + '{"flowId": 42, "triggerTime": 1700000000000}' + "1700000000001" + "sec")
                       = "8001dac91123ca64f1d477284e642e3d948d85c241a1c85d500bab8fe44f0dfa"

Usage:
    client = BatchflowClient("http://127.0.0.1:8080", access_key, secret_key, user_id="u-admin", org_id="o-default")
    flow = client.call("v2.1", "GET", "flows", "get", query={"flowId": 42})
    client.call("v2.1", "POST", "flows", "trigger", body={"flowId": 42, "triggerTime": int(time.time() * 1000)})

call() returns the envelope's `data` and raises BatchflowError when the answer's code (V2.1 `code`,
V2.0 `status`) is not 0, whatever the HTTP status.
"""

import hashlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request

TOKEN_GET_PATH = "/apim-token-service/v2.0/token/get"
TOKEN_REFRESH_PATH = "/apim-token-service/v2.0/token/refresh"

# The two API versions: path prefix and the envelope key that carries the result code.
VERSIONS = {
    "v2.1": {"prefix": "/batch-processing-service/v2.1", "code_key": "code"},
    "v2.0": {"prefix": "/dataflow-batch-service/v2.0", "code_key": "status"},
}


# ---------------------------------------------------------------------------------------------------
# The signing algorithm: three pure functions, nothing else needed.
# ---------------------------------------------------------------------------------------------------


def sha256_hex(data):
    """Lowercase hex SHA-256 of a str (hashed as UTF-8) or of bytes."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def token_encryption(app_key, timestamp, app_secret):
    """Get Access Token's `encryption`: sha256_hex(appKey + timestamp + appSecret)."""
    return sha256_hex(app_key + str(timestamp) + app_secret)


def params_data(params):
    """The query's part of a signature: (key, value) pairs sorted by key, key + value concatenated.

    `params` holds the values as they are before URL-encoding. The sort is by key only and stable, so
    a repeated key keeps its order. (Python compares code points, the service UTF-16 code units: the
    same order for every key below U+10000; API keys are ASCII.)
    """
    return "".join(key + value for key, value in sorted(params, key=lambda kv: kv[0]))


def request_signature(access_token, params, raw_body, timestamp, app_secret):
    """apim-signature: sha256_hex(accessToken + paramsData + rawBody + timestamp + appSecret).

    raw_body is the exact bytes sent (b"" without a body); everything else is hashed as UTF-8.
    """
    h = hashlib.sha256()
    h.update(access_token.encode("utf-8"))
    h.update(params_data(params).encode("utf-8"))
    h.update(raw_body)
    h.update(str(timestamp).encode("utf-8"))
    h.update(app_secret.encode("utf-8"))
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------------
# The client: token, signature, HTTP.
# ---------------------------------------------------------------------------------------------------


class BatchflowError(Exception):
    """A non-zero code from the service (or the gateway), with the envelope it came in."""

    def __init__(self, what, code, msg, http_status, envelope):
        super().__init__("%s: code %s, HTTP %s: %s" % (what, code, http_status, msg))
        self.what = what
        self.code = code
        self.msg = msg
        self.http_status = http_status
        self.envelope = envelope


class BatchflowClient:
    def __init__(self, base_url, access_key, secret_key, user_id=None, org_id=None, timeout=30):
        self.base_url = base_url.rstrip("/")
        self.access_key = access_key
        self.secret_key = secret_key
        self.user_id = user_id
        self.org_id = org_id
        self.timeout = timeout
        self._token = None
        self._token_until = 0.0
        self._last_ts = 0

    def timestamp(self):
        """Epoch milliseconds, never equal to this client's previous timestamp."""
        self._last_ts = max(int(time.time() * 1000), self._last_ts + 1)
        return self._last_ts

    # -- HTTP ---------------------------------------------------------------------------------------

    def _send(self, method, path_and_query, raw_body, headers):
        """Sends one request; returns (HTTP status, parsed JSON answer). Non-2xx answers are read too."""
        request = urllib.request.Request(self.base_url + path_and_query, data=raw_body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as e:  # 401, 404, 429, ... still carry the envelope
            status, text = e.code, e.read()
        try:
            return status, json.loads(text.decode("utf-8"))
        except ValueError:
            raise BatchflowError("%s %s" % (method, path_and_query), None, "not JSON: %r" % text[:200], status, None)

    # -- token --------------------------------------------------------------------------------------

    def _token_request(self, path, extra=None):
        timestamp = self.timestamp()
        body = {"appKey": self.access_key, "encryption": token_encryption(self.access_key, timestamp, self.secret_key), "timestamp": timestamp}
        body.update(extra or {})
        status, env = self._send("POST", path, json.dumps(body).encode("utf-8"), {"Content-Type": "application/json;charset=UTF-8"})
        if env.get("status") != 0 or not env.get("data"):
            raise BatchflowError("POST " + path, env.get("status"), env.get("msg"), status, env)
        self._token = env["data"]["accessToken"]
        # Renewed a minute early, so a request signed just before expiry still arrives in time.
        self._token_until = time.time() + max(0, env["data"]["expire"] - 60)
        return env

    def access_token(self):
        """The app's access token (token/get), fetched once and kept until shortly before it expires."""
        if self._token is None or time.time() >= self._token_until:
            self._token_request(TOKEN_GET_PATH)
        return self._token

    def refresh_token(self):
        """token/refresh: replaces the current token by a new one; returns the gateway's envelope."""
        return self._token_request(TOKEN_REFRESH_PATH, {"accessToken": self.access_token()})

    # -- signed calls -------------------------------------------------------------------------------

    def sign(self, params, raw_body):
        """The three apim-* headers for a request with these query params and body bytes."""
        token = self.access_token()
        timestamp = str(self.timestamp())
        return {
            "apim-accesstoken": token,
            "apim-timestamp": timestamp,
            "apim-signature": request_signature(token, params, raw_body, timestamp, self.secret_key),
        }

    def request(self, method, path, params, body=None, signed=True):
        """One call: `params` a list of (key, value) strings, `body` any JSON value or None.

        Returns (HTTP status, envelope). The body is serialized once, and those bytes are both signed
        and sent. A 401 for an expired token (1203) gets a new token and one retry.
        """
        raw_body = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        # quote (not quote_plus): a space goes as %20; the service decodes it back before checking.
        path_and_query = path + ("?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote) if params else "")
        for attempt in (1, 2):
            headers = {}
            if body is not None:
                headers["Content-Type"] = "application/json;charset=UTF-8"
            if signed:
                headers.update(self.sign(params, raw_body))
            status, env = self._send(method, path_and_query, raw_body if body is not None else None, headers)
            expired = status == 401 and 1203 in (env.get("code"), env.get("status"))
            if not (expired and attempt == 1):
                return status, env
            self._token = None

    def stream_log(self, task_inst_id, follow=True, after=None):
        """The live log stream (V2.1 extension, server-sent events): a list of (event, data) until `end`.

        With follow=False the service sends the log there is now and ends; with follow=True it ends when
        the task instance is terminal. `after` resumes after a log event id ("runNum.seq").
        """
        params = [("action", "streamLog"), ("userId", self.user_id), ("orgId", self.org_id), ("taskInstId", task_inst_id)]
        if not follow:
            params.append(("follow", "false"))
        if after:
            params.append(("after", after))
        path_and_query = VERSIONS["v2.1"]["prefix"] + "/taskInstances?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
        request = urllib.request.Request(self.base_url + path_and_query, method="GET", headers=self.sign(params, b""))
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                kind, text = response.headers.get("Content-Type", ""), response.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            kind, text = e.headers.get("Content-Type", ""), e.read().decode("utf-8")
        if not kind.startswith("text/event-stream"):
            env = json.loads(text)
            raise BatchflowError("v2.1 GET /taskInstances?action=streamLog", env.get("code"), env.get("msg"), None, env)
        events = []
        for block in text.split("\n\n"):
            name, data = None, None
            for line in block.split("\n"):
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
            if name:
                events.append((name, data))
        return events

    def call(self, version, method, resource, action, query=None, body=None, public=False):
        """An operation of API `version` ("v2.1" or "v2.0"); returns the envelope's `data`.

        `query` holds the operation's parameters besides action/userId/orgId (values are sent as str).
        `public` operations (the /time ones) carry neither identity nor signature.
        """
        spec = VERSIONS[version]
        params = [("action", action)]
        if not public:
            if not self.user_id or not self.org_id:
                raise ValueError("user_id and org_id are needed for %s /%s?action=%s" % (method, resource, action))
            params += [("userId", self.user_id), ("orgId", self.org_id)]
        params += [(k, str(v)) for k, v in (query or {}).items()]
        status, env = self.request(method, spec["prefix"] + "/" + resource, params, body, signed=not public)
        code = env.get(spec["code_key"])
        if code != 0:
            raise BatchflowError("%s %s /%s?action=%s" % (version, method, resource, action), code, env.get("msg"), status, env)
        return env.get("data")
