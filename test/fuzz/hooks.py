"""Schemathesis hooks for fuzzing Herald (loaded through SCHEMATHESIS_HOOKS by test/integration/openapi-fuzz.test.ts).

They only steer generation towards data that exists, so that most operations get past "not found" into their real
logic; they never change what is checked. The test writes a file (HERALD_FUZZ_DATA) with what it created:

  ids            path parameter name -> ids that exist (reservationId, locationId, resourceId, serviceId, ...)
  operationIds   "METHOD /path" -> path parameter name -> ids for that operation alone (a reservation that can still
                 be declined; a location that may be archived without taking the others' catalog with it)
  bodies         "METHOD /path" -> field sets; one may replace the fields of a generated body that it already has
                 (a locationId that exists for POST /v1/resources; a booking shape keeps its shape)
  queries        "METHOD /path" -> whole query strings that may replace the generated one (an availability window)
  customerTokens link tokens of customers' own pages, sent as X-Customer-Token to /v1/self/... most of the time
  twilio         authToken and publicUrl to sign webhook calls with, as Twilio would
  calendly       signingKey to sign Calendly webhook calls with (t=<now>,v1=HMAC-SHA256 of "t.body"), as Calendly would
  whatsapp       appSecret and verifyToken of the environment's WhatsApp app (handshake, signed status posts)
  statusFile     where to write, per operation, how often each status came back

Each hook draws between the generated value and the seeded ones, so generated data is still sent too.
"""

import atexit
import base64
import hashlib
import hmac
import json
import os
import random
import time
from collections import defaultdict
from urllib.parse import parse_qsl

import requests
import schemathesis
from hypothesis import strategies as st

with open(os.environ["HERALD_FUZZ_DATA"], encoding="utf-8") as seed_file:
    SEED = json.load(seed_file)
IDS = SEED.get("ids", {})
OPERATION_IDS = SEED.get("operationIds", {})
BODIES = SEED.get("bodies", {})
QUERIES = SEED.get("queries", {})
TWILIO = SEED.get("twilio")
CALENDLY = SEED.get("calendly")
WHATSAPP = SEED.get("whatsapp")
CUSTOMER_TOKENS = SEED.get("customerTokens", [])
STATUSES = defaultdict(lambda: defaultdict(int))
SAMPLES = defaultdict(dict)  # operation -> status -> one answer, to say why an operation never reached 2xx


def label(context):
    return context.operation.label if context.operation is not None else ""


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    """An id that exists, most of the time; the generated one otherwise."""
    own = OPERATION_IDS.get(label(context), {})
    choices = {}
    for name, value in (path_parameters or {}).items():
        known = own.get(name) or IDS.get(name) or []
        choices[name] = st.sampled_from([value, *known, *known]) if known else st.just(value)
    return st.fixed_dictionaries(choices) if choices else st.just(path_parameters)


@schemathesis.hook
def flatmap_query(context, query):
    """A query string that makes sense (e.g. an availability window of a service that exists), or the generated one."""
    known = QUERIES.get(label(context))
    if not known:
        return st.just(query)
    return st.sampled_from([query, *known])


@schemathesis.hook
def flatmap_body(context, body):
    """Fields that refer to something existing (a location, a service, a provider message id) in generated bodies."""
    fields = BODIES.get(label(context))
    if not fields or not isinstance(body, dict):
        return st.just(body)
    return st.sampled_from([{}, *fields]).map(
        lambda chosen: {**body, **{name: value for name, value in chosen.items() if name in body}}
    )


def twilio_signature(auth_token, url, params):
    """X-Twilio-Signature as the twilio SDK checks it: the URL, then each sorted name with its sorted distinct values."""
    utf16 = lambda text: text.encode("utf-16-be")  # JavaScript sorts strings by UTF-16 code units
    data = url
    for name in sorted(params, key=utf16):
        for value in sorted(set(params[name]), key=utf16):
            data += name + value
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def prepare(case):
    """The request exactly as it will be sent (so that a signature covers the bytes Herald receives)."""
    return requests.Request(**{
        key: value
        for key, value in case.as_transport_kwargs(base_url="http://herald").items()
        if key in ("method", "url", "headers", "params", "data", "json", "files")
    }).prepare()


@schemathesis.hook
def before_call(context, case, kwargs):
    """A customer's link token on their own page's calls (most of the time: a generated one is still sent, too).
    Sign the Twilio and Calendly webhook calls with the configured secrets, exactly over what will be sent."""
    if CUSTOMER_TOKENS and case.path.startswith("/v1/self"):
        if case.headers is None:
            case.headers = {}
        choice = random.randrange(len(CUSTOMER_TOKENS) + 1)
        if choice < len(CUSTOMER_TOKENS):
            case.headers["X-Customer-Token"] = CUSTOMER_TOKENS[choice]
        return
    if CALENDLY is not None and case.path.startswith("/v1/webhooks/calendly/"):
        prepared = prepare(case)
        body = prepared.body if isinstance(prepared.body, bytes) else (prepared.body or "").encode("utf-8")
        timestamp = str(int(time.time()))
        digest = hmac.new(CALENDLY["signingKey"].encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
        if case.headers is None:
            case.headers = {}
        case.headers["Calendly-Webhook-Signature"] = f"t={timestamp},v1={digest.hexdigest()}"
        return
    if WHATSAPP is not None and case.path == "/v1/webhooks/whatsapp" and random.randrange(4) > 0:
        # Most of the time as Meta would: the verify token in the handshake, the body signed with the app secret.
        if case.method.upper() == "GET":
            case.query = {**(case.query or {}), "hub.verify_token": WHATSAPP["verifyToken"]}
            return
        prepared = requests.Request(**{
            key: value
            for key, value in case.as_transport_kwargs(base_url="http://herald").items()
            if key in ("method", "url", "headers", "params", "data", "json", "files")
        }).prepare()
        body = prepared.body if isinstance(prepared.body, bytes) else (prepared.body or "").encode("utf-8")
        if case.headers is None:
            case.headers = {}
        case.headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(
            WHATSAPP["appSecret"].encode("utf-8"), body, hashlib.sha256
        ).hexdigest()
        return
    if TWILIO is None or not case.path.startswith("/v1/webhooks/twilio/"):
        return
    prepared = prepare(case)
    body = prepared.body.decode("utf-8") if isinstance(prepared.body, bytes) else prepared.body or ""
    params = defaultdict(list)
    for name, value in parse_qsl(body, keep_blank_values=True):
        params[name].append(value)
    if case.headers is None:
        case.headers = {}
    case.headers["X-Twilio-Signature"] = twilio_signature(
        TWILIO["authToken"], TWILIO["publicUrl"].rstrip("/") + prepared.path_url, params
    )


@schemathesis.hook
def after_call(context, case, response):
    status = str(response.status_code)
    STATUSES[label(context)][status] += 1
    SAMPLES[label(context)].setdefault(status, response.text[:300])


@atexit.register
def write_statuses():
    path = SEED.get("statusFile")
    if path:
        with open(path, "w", encoding="utf-8") as file:
            json.dump({"statuses": STATUSES, "samples": SAMPLES}, file, indent=1, sort_keys=True)
