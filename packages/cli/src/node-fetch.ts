import { request as httpRequest, type IncomingMessage, type RequestOptions, type ClientRequest } from "node:http";

type FetchInput = Parameters<typeof fetch>[0];
type FetchInit = NonNullable<Parameters<typeof fetch>[1]>;

function urlOf(input: FetchInput): string {
  if (typeof input === "string") return input;
  return "href" in input ? input.href : input.url;
}

function headersOf(init: FetchInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!init) return out;
  if (Array.isArray(init)) {
    for (const [key, value] of init) if (key !== undefined && value !== undefined) out[key.toLowerCase()] = value;
  } else if (typeof (init as Headers).forEach === "function") {
    (init as Headers).forEach((value, key) => (out[key.toLowerCase()] = value));
  } else {
    for (const [key, value] of Object.entries(init as Record<string, string>)) out[key.toLowerCase()] = value;
  }
  return out;
}

function toResponse(res: IncomingMessage, body: Buffer): Response {
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.push([res.rawHeaders[i] ?? "", res.rawHeaders[i + 1] ?? ""]);
  const status = res.statusCode ?? 500;
  const empty = status === 204 || status === 205 || status === 304;
  return new Response(empty ? null : body, { status, statusText: res.statusMessage ?? "", headers });
}

/**
 * fetch over node:http for the CLI. Node 20's global fetch (undici) compiles its HTTP parser from
 * WebAssembly in every new process, and the process then waits for V8 to finish optimising that
 * module in the background before it exits: about 200 ms of a 300 ms `ona environment list`.
 * node:http's parser is native. Only what the SDK sends is supported: string bodies, no redirects.
 * node:https (and with it Node's TLS stack) is loaded only for an https:// host.
 */
export const nodeFetch: typeof fetch = async (input, init = {}) => {
  const url = new URL(urlOf(input));
  const send: (url: URL, options: RequestOptions, callback: (res: IncomingMessage) => void) => ClientRequest =
    url.protocol === "https:" ? (await import("node:https")).request : httpRequest;
  return new Promise<Response>((resolve, reject) => {
    if (init.body !== undefined && init.body !== null && typeof init.body !== "string") {
      reject(new TypeError("this fetch sends string bodies only"));
      return;
    }
    const signal = init.signal ?? undefined;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const req = send(url, { method: init.method ?? "GET", headers: headersOf(init.headers) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve(toResponse(res, Buffer.concat(chunks))));
      res.on("error", reject);
    });
    const abort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
    signal?.addEventListener("abort", abort, { once: true });
    req.on("error", (error) => reject(signal?.aborted ? signal.reason : new TypeError("fetch failed", { cause: error })));
    req.on("close", () => signal?.removeEventListener("abort", abort));
    req.end(init.body ?? undefined);
  });
};
