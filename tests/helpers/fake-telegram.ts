/**
 * Telegram's Bot API on 127.0.0.1, for daemon-level tests: records every sendMessage it
 * accepts, holds getUpdates like a long poll, and can be told to fail (`answer`): a 5xx, a
 * 429 with `parameters.retry_after` as Telegram sends it, or a 400/403 with a description.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Sent {
  chatId: string;
  text: string;
}

/** What to answer a sendMessage with: delivered (200), refused for now (5xx, 429) or for good (400, 403). */
export type TelegramAnswer =
  { status: 200 } | { status: 500 | 502 | 503 } | { status: 429; retryAfterSeconds: number } | { status: 400 | 403; description: string };

export class FakeTelegram {
  /** Messages accepted (answered 200), in arrival order. */
  readonly sent: Sent[] = [];
  /** Every sendMessage request and its answer's status. */
  readonly requests: Array<{ chatId: string; status: number; atMs: number }> = [];
  readonly tokens = new Set<string>();
  /** Decides each sendMessage's answer (default: deliver). */
  answer: (req: { chatId: string; parseMode?: string | undefined }) => TelegramAnswer = () => ({ status: 200 });
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));
  private readonly polls = new Set<ServerResponse>();
  url = "";

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.polls) res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, result: [] }));
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = "";
    for await (const chunk of req) body += String(chunk);
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? "");
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    this.tokens.add(m[1]);
    const params: Record<string, string> = (req.headers["content-type"] ?? "").includes("json")
      ? Object.fromEntries(
          Object.entries(JSON.parse(body || "{}") as Record<string, unknown>).map(([k, v]) => [
            k,
            typeof v === "string" ? v : JSON.stringify(v),
          ]),
        )
      : Object.fromEntries(new URLSearchParams(body));
    const json = (status: number, v: unknown): void =>
      void res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(v));
    if (m[2] === "getUpdates") {
      // a long poll with nothing to say: answered when the client goes away or at stop()
      this.polls.add(res);
      res.on("close", () => this.polls.delete(res));
      return;
    }
    if (m[2] === "sendMessage") {
      const chatId = params.chat_id ?? "";
      const a = this.answer({ chatId, parseMode: params.parse_mode });
      this.requests.push({ chatId, status: a.status, atMs: Date.now() });
      if (a.status === 429) {
        json(429, {
          ok: false,
          error_code: 429,
          description: `Too Many Requests: retry after ${a.retryAfterSeconds}`,
          parameters: { retry_after: a.retryAfterSeconds },
        });
        return;
      }
      if (a.status !== 200) {
        json(a.status, { ok: false, error_code: a.status, description: "description" in a ? a.description : "Internal Server Error" });
        return;
      }
      this.sent.push({ chatId, text: params.text ?? "" });
      json(200, {
        ok: true,
        result: {
          message_id: this.sent.length,
          date: Math.floor(Date.now() / 1000),
          chat: { id: Number(chatId), type: "private" },
          text: params.text,
        },
      });
      return;
    }
    json(200, { ok: true, result: true });
  }

  /** Accepted messages whose text matches. */
  count(re: RegExp): number {
    return this.sent.filter((s) => re.test(s.text)).length;
  }
}
