import { connect } from "node:net";
import { request } from "node:http";

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A request with headers exactly as given (repeated headers, odd bytes) and a chosen source
 * address on the loopback range, which fetch cannot do.
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string | string[]>; body?: string; localAddress?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? "GET", headers: options.headers ?? {}, ...(options.localAddress ? { localAddress: options.localAddress } : {}) },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/**
 * Writes bytes to the server's socket exactly as given (bytes no HTTP client would send:
 * NUL, bare CR/LF, non-ASCII in a header) and returns the status line's code.
 */
export function rawSocketRequest(port: number, head: Buffer | string): Promise<{ status: number; raw: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let raw = "";
    socket.setTimeout(5000, () => socket.destroy(new Error("no answer in 5 s")));
    socket.on("data", (chunk) => {
      raw += chunk.toString("latin1");
    });
    socket.on("error", (error) => (raw ? resolve({ status: statusOf(raw), raw }) : reject(error)));
    socket.on("close", () => resolve({ status: statusOf(raw), raw }));
    socket.write(head);
  });
}

function statusOf(raw: string): number {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  return match?.[1] ? Number(match[1]) : 0;
}
