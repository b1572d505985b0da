#!/usr/bin/env node
// Issues a certificate with acme-proto built for WebAssembly, driven from Node.js:
//
//   node examples/wasm/issue.mjs --directory URL --domain NAME [--domain NAME ...]
//        --http-port P --out FILE [--key-out FILE] [--verbose]
//
// The module (`cargo xtask wasm` builds it into ./pkg) decides every request and every
// wait; this program is its host. It sends the requests with fetch (each within its
// time limit and body cap), tells the module the time (Date.now()), gives it 32 random
// bytes (crypto.getRandomValues) from which the account key and the certificate key are
// made, and answers the CA's http-01 validation with node:http on 127.0.0.1:P. The CA's
// TLS certificate is checked as fetch always does: trust a private CA (Pebble's) with
// NODE_EXTRA_CA_CERTS=root.pem.
//
// Exits 0 once the chain is written to FILE (atomically: a temporary file, then a
// rename); otherwise 1 (2 for a bad command line), with one line on stderr saying why.
// The HTTP server is stopped on every path.

import { createRequire } from "node:module";
import { webcrypto } from "node:crypto";
import http from "node:http";
import fs from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";

const USAGE =
  "usage: node issue.mjs --directory URL --domain NAME [--domain NAME ...] " +
  "--http-port P --out FILE [--key-out FILE] [--verbose]";

/** The longest a request may take when the module gives no limit. */
const DEFAULT_TIME_LIMIT_MS = 30_000;
/** The longest single sleep; polling early is harmless (the same wait comes back). */
const MAX_SLEEP_MS = 60_000;
const CHALLENGE_PREFIX = "/.well-known/acme-challenge/";

/** A failure whose message is the whole line to print. */
class Failure extends Error {}

/** A bad command line: exit code 2, with the usage. */
class UsageError extends Failure {
  constructor(message) {
    super(`${message}; ${USAGE}`);
  }
}

function commandLine() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        directory: { type: "string" },
        domain: { type: "string", multiple: true },
        "http-port": { type: "string" },
        out: { type: "string" },
        "key-out": { type: "string" },
        verbose: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error.message);
  }
  const missing = ["directory", "domain", "http-port", "out"].filter((name) => !values[name]);
  if (missing.length > 0) {
    throw new UsageError(`missing --${missing.join(", --")}`);
  }
  const port = Number(values["http-port"]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--http-port must be a port number, not ${values["http-port"]}`);
  }
  return {
    directory: values.directory,
    domains: values.domain,
    port,
    out: values.out,
    keyOut: values["key-out"],
    verbose: values.verbose ?? false,
  };
}

/** The module and its glue, from ./pkg next to this file. */
function loadModule() {
  const require = createRequire(import.meta.url);
  try {
    return require("./pkg/acme_proto_wasm.js");
  } catch (error) {
    if (error.code === "MODULE_NOT_FOUND") {
      throw new Failure("examples/wasm/pkg is missing: run `cargo xtask wasm` first");
    }
    throw error;
  }
}

// --- http-01 -------------------------------------------------------------------------

/** An HTTP server on 127.0.0.1:port answering `GET /.well-known/acme-challenge/TOKEN`
 * with the token's key authorization from `tokens`, 404 for everything else. */
async function startResponder(port, tokens) {
  const server = http.createServer((request, response) => {
    const url = request.url ?? "";
    const token = url.startsWith(CHALLENGE_PREFIX) ? url.slice(CHALLENGE_PREFIX.length) : null;
    const body =
      token !== null && (request.method === "GET" || request.method === "HEAD")
        ? tokens.get(token)
        : undefined;
    if (body === undefined) {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    response
      .writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(body) })
      .end(request.method === "HEAD" ? undefined : body);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise((resolve, reject) => {
    server.once("error", (error) =>
      reject(new Failure(`cannot serve http-01 on 127.0.0.1:${port}: ${error.message}`)),
    );
    server.listen(port, "127.0.0.1", resolve);
  });
  return server;
}

function stopResponder(server) {
  if (server === null) return;
  server.close();
  server.closeAllConnections();
}

// --- the transport -------------------------------------------------------------------

/** Error codes (of the error or its cause) by the core's kinds of transport failure. */
const CONNECT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL"]);
const RESET = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);
const TIMEOUT = new Set(["ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);
const TLS = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "HOSTNAME_MISMATCH",
]);

/** The core's word ("connect", "reset", "timeout", "tls", "other") for a fetch error. */
function classify(error) {
  if (error?.name === "TimeoutError" || error?.cause?.name === "TimeoutError") return "timeout";
  const code = error?.cause?.code ?? error?.code ?? "";
  if (CONNECT.has(code)) return "connect";
  if (RESET.has(code)) return "reset";
  if (TIMEOUT.has(code)) return "timeout";
  if (TLS.has(code) || code.startsWith("ERR_TLS_") || code.startsWith("ERR_SSL_")) return "tls";
  return "other";
}

/** A fetch error on one line: fetch's message, then its cause's. */
function describe(error) {
  const cause = error?.cause;
  const causeText = cause ? `: ${cause.message ?? cause}${cause.code ? ` (${cause.code})` : ""}` : "";
  return `${error?.message ?? error}${causeText}`;
}

/** The body, or null once it passes `max` bytes (the rest is not read). */
async function readCapped(response, max) {
  if (response.body === null) return new Uint8Array(0);
  const chunks = [];
  let length = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/** Sends a `send` step: `{ status, headers, body }`, or `{ failure, detail }`. */
async function send(step) {
  const signal = AbortSignal.timeout(step.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS);
  const headers = new Headers(step.headers);
  if (!headers.has("user-agent")) headers.set("user-agent", "acme-proto-wasm (Node.js)");
  try {
    const response = await fetch(step.url, {
      method: step.method,
      headers,
      body: step.body ?? undefined,
      redirect: "manual",
      signal,
    });
    const tooLarge = { failure: "too-large", detail: `the body is over ${step.maxResponseBody} bytes` };
    const declared = Number(response.headers.get("content-length") ?? 0);
    if (declared > step.maxResponseBody) {
      await response.body?.cancel().catch(() => {});
      return tooLarge;
    }
    const body = await readCapped(response, step.maxResponseBody);
    if (body === null) return tooLarge;
    return { status: response.status, headers: [...response.headers], body };
  } catch (error) {
    return { failure: classify(error), detail: describe(error) };
  }
}

// --- the run loop --------------------------------------------------------------------

/** One line on stderr for an exchange: the request, then the status (with the problem
 * type of a refusal) or the transport failure. */
function trace(step, outcome) {
  let result;
  if (outcome.failure) {
    result = `${outcome.failure}: ${outcome.detail}`;
  } else {
    result = `${outcome.status}`;
    if (outcome.status >= 400) {
      try {
        const type = JSON.parse(new TextDecoder().decode(outcome.body)).type;
        if (typeof type === "string") result += ` ${JSON.stringify(type)}`;
      } catch {
        // Not a problem document: the status says enough.
      }
    }
  }
  process.stderr.write(`${step.method} ${step.url} -> ${result}\n`);
}

/** Drives `issuer` to its end; resolves once the certificate is there. With `verbose`,
 * each exchange is traced on stderr. */
async function run(issuer, tokens, log, verbose) {
  // Requests out, by id: each promise resolves to { step, outcome } and never rejects.
  const pending = new Map();
  let lastFailure = null;

  const handBack = ({ step, outcome }) => {
    pending.delete(step.id);
    if (verbose) trace(step, outcome);
    if (outcome.failure) {
      lastFailure = `${step.method} ${step.url}: ${outcome.detail}`;
      issuer.handleTransportFailure(step.id, outcome.failure, Date.now());
    } else {
      issuer.handleResponse(step.id, outcome.status, outcome.headers, outcome.body, Date.now());
    }
  };

  // Until the first request out comes back (handing it back), or `ms` has passed.
  const next = async (ms) => {
    let timer;
    const waits = [...pending.values()];
    if (Number.isFinite(ms)) {
      const sleep = Math.min(Math.max(ms, 0), MAX_SLEEP_MS);
      waits.push(new Promise((resolve) => (timer = setTimeout(resolve, sleep, null))));
    }
    if (waits.length === 0) throw new Error("nothing is out and nothing to wait for");
    const first = await Promise.race(waits);
    clearTimeout(timer);
    if (first !== null) handBack(first);
  };

  try {
    for (;;) {
      const step = issuer.poll(Date.now());
      switch (step.kind) {
        case "send":
          pending.set(step.id, send(step).then((outcome) => ({ step, outcome })));
          break;
        case "present":
          log(`presenting http-01 for ${step.identifier}`);
          tokens.set(step.token, step.keyAuthorization);
          issuer.challengeReady(step.challengeUrl);
          break;
        case "cleanup":
          tokens.delete(step.token);
          break;
        case "wait":
          await next(step.untilMs - Date.now());
          break;
        case "inFlight":
          await next(Infinity);
          break;
        case "awaitingCaller":
          throw new Error("a challenge was left unanswered");
        case "done":
          return;
        default:
          // A step this program does not know ends it: skipping it would spin.
          throw new Error(`a step this program does not know: ${step.kind}`);
      }
    }
  } catch (error) {
    if (error?.kind === "transport" && lastFailure !== null) {
      error.message = `${error.message} (last: ${lastFailure})`;
    }
    throw error;
  }
}

/** Writes `text` to `file` through a temporary file in the same directory (flushed to
 * disk) and a rename, so that `file` is either the old one or the whole new one. */
async function writeAtomically(file, text, mode) {
  const directory = path.dirname(file);
  const random = Buffer.from(webcrypto.getRandomValues(new Uint8Array(6))).toString("hex");
  const temporary = path.join(directory, `.${path.basename(file)}.${random}.tmp`);
  try {
    const handle = await fs.open(temporary, "wx", mode);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, file);
    const parent = await fs.open(directory, "r");
    await parent.sync().finally(() => parent.close());
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw new Failure(`cannot write ${file}: ${error.message}`);
  }
}

async function main() {
  const options = commandLine();
  const { Issuer } = loadModule();
  const log = (line) => process.stdout.write(`${line}\n`);
  const tokens = new Map();
  let server = null;
  let issuer = null;
  const stop = (signal) => {
    stopResponder(server);
    process.stderr.write(`issue.mjs: error: stopped by ${signal}\n`);
    process.exit(1);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    server = await startResponder(options.port, tokens);
    const random = webcrypto.getRandomValues(new Uint8Array(32));
    issuer = new Issuer(options.directory, options.domains, random);
    random.fill(0);
    await run(issuer, tokens, log, options.verbose);
    log(`account ${issuer.accountUrl()}`);
    if (options.keyOut) {
      await writeAtomically(options.keyOut, issuer.privateKeyPem(), 0o600);
    }
    await writeAtomically(options.out, issuer.certificatePem(), 0o644);
    log(`issued for ${options.domains.join(", ")}: chain written to ${options.out}`);
  } finally {
    stopResponder(server);
    issuer?.free();
  }
}

try {
  await main();
  process.exit(0);
} catch (error) {
  const line = error instanceof Failure ? error.message : `${error?.message ?? error}`;
  process.stderr.write(`issue.mjs: error: ${line}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
}
