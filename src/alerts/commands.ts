/**
 * Bot commands: a getUpdates long poll per bot answers `/status` and `/channel ID` from
 * allowlisted chats (the chats alerts go to, routing.ts) through the outbox; other chats are
 * ignored and logged. The update offset is stored before the answer, so an update is never
 * processed twice, even across restarts (a crash in between loses that answer; the user
 * asks again). Commands older than `maxAgeMs` (default 10 min, e.g. queued while the daemon
 * was down) are not answered. A failing poll is retried with backoff (1 s … 60 s), or after
 * Telegram's `retry_after`.
 */
import { Backoff } from "../core/backoff.js";
import type { Clock } from "../core/clock.js";
import type { Timers } from "../core/timers.js";
import type { Logger } from "../observe/logger.js";
import type { Store } from "../store/db.js";
import { enqueueOutbox, getAlertState, setAlertState } from "../store/outbox.js";
import { pause, type AlertCounters } from "./delivery.js";
import { formatReply } from "./messages.js";
import type { AlertRouter } from "./routing.js";
import { TelegramRequestError, type TelegramClient, type Update } from "./telegram.js";

export interface AlerterCommands {
  /** `/status`: plain text about all channels */
  status(): string;
  /** `/channel ID`: plain text about one channel, undefined if unknown */
  channel(id: string): string | undefined;
  /** getUpdates long-poll time, s (default 25) */
  pollTimeoutSec?: number;
  /** commands older than this are not answered (default 10 min) */
  maxAgeMs?: number;
}

export interface CommandEvent {
  chatId: string;
  command: string;
  allowed: boolean;
}

export interface BotCommandsOptions {
  store: Store;
  log: Logger;
  clock: Clock;
  timers: Timers;
  commands: AlerterCommands;
  router: AlertRouter;
  counters: AlertCounters;
  emit: (event: "command", payload: CommandEvent) => void;
  /** an answer is in the outbox */
  queued: () => void;
  /** backoff jitter source (tests) */
  random?: (() => number) | undefined;
}

const COMMAND = /^\/([A-Za-z0-9_]+)(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$/s;
const CHANNEL_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export class BotCommands {
  private readonly o: BotCommandsOptions;
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];

  constructor(o: BotCommandsOptions) {
    this.o = o;
  }

  /** Starts answering a bot's commands (once per bot). */
  poll(botId: string, client: TelegramClient): void {
    if (!this.abort.signal.aborted) this.loops.push(this.pollLoop(botId, client));
  }

  /** Ends the polls at once; resolves when they are done. */
  async close(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  private async pollLoop(botId: string, client: TelegramClient): Promise<void> {
    const { log, commands } = this.o;
    const signal = this.abort.signal;
    const key = `telegram.offset.${botId}`;
    const backoff = new Backoff({ minMs: 1000, maxMs: 60_000, clock: this.o.clock, ...(this.o.random ? { random: this.o.random } : {}) });
    let failing = false;
    let offset = this.storedOffset(key);
    while (!signal.aborted) {
      let updates: Update[];
      try {
        updates = await client.getUpdates(offset, commands.pollTimeoutSec ?? 25, signal);
      } catch (err) {
        if (signal.aborted) break;
        const e = err instanceof TelegramRequestError ? err : undefined;
        const wait = e?.retryAfterMs ?? Math.round(backoff.next());
        if (!failing) {
          failing = true;
          log.warn(
            { event: "telegram_poll_failed", botId, reason: e?.reason ?? "unknown", retryInMs: wait },
            e?.message ?? "getUpdates failed",
          );
        }
        await pause(this.o.timers, wait, signal);
        continue;
      }
      if (failing) {
        failing = false;
        log.info({ event: "telegram_poll_resumed", botId }, "getUpdates works again");
      }
      backoff.reset();
      for (const u of updates) {
        if (signal.aborted) break;
        offset = u.update_id + 1;
        try {
          setAlertState(this.o.store, key, String(offset));
          this.handleUpdate(botId, u);
        } catch (err) {
          log.error({ event: "alert_store_error", err }, "cannot handle a Telegram update");
        }
      }
    }
  }

  private storedOffset(key: string): number | undefined {
    try {
      const v = getAlertState(this.o.store, key);
      return v === undefined ? undefined : Number(v);
    } catch (err) {
      this.o.log.error({ event: "alert_store_error", err }, "cannot read the Telegram update offset");
      return undefined;
    }
  }

  private handleUpdate(botId: string, u: Update): void {
    const { log, clock } = this.o;
    const msg = "message" in u ? u.message : "channel_post" in u ? u.channel_post : undefined;
    const text = msg?.text;
    if (!msg || !text || !text.startsWith("/")) return;
    const m = COMMAND.exec(text.trim());
    if (!m) return;
    const command = m[1].toLowerCase();
    const chatId = String(msg.chat.id);
    const allow = this.o.router.allowlist(botId);
    const allowed = allow.has(chatId) || (msg.chat.username !== undefined && allow.has(`@${msg.chat.username}`));
    this.o.emit("command", { chatId, command, allowed });
    if (!allowed) {
      this.o.counters.commands.refused++;
      log.warn(
        { event: "telegram_command_refused", chatId, chatType: msg.chat.type, command: command.slice(0, 32) },
        "Telegram command from a chat not on the allowlist ignored",
      );
      return;
    }
    if (clock.now() - msg.date * 1000 > (this.o.commands.maxAgeMs ?? 10 * 60_000)) {
      log.info({ event: "telegram_command_stale", chatId, command }, "old Telegram command not answered");
      return;
    }
    const reply = this.answer(command, (m[2] ?? "").trim());
    enqueueOutbox(this.o.store, [{ botId, chatId, kind: "reply", payload: formatReply(reply) }], clock.now());
    this.o.counters.commands.answered++;
    this.o.counters.enqueued++;
    log.info({ event: "telegram_command", chatId, command }, `answered /${command}`);
    this.o.queued();
  }

  /** The reply text of a command; a failing command is answered and logged. */
  private answer(command: string, arg: string): string {
    const cmds = this.o.commands;
    try {
      if (command === "status") return cmds.status();
      if (command === "channel") return CHANNEL_ID.test(arg) ? (cmds.channel(arg) ?? `unknown channel: ${arg}`) : "usage: /channel ID";
      return "commands: /status, /channel ID";
    } catch (err) {
      this.o.log.error({ event: "telegram_command_failed", command, err }, "a bot command failed");
      return `/${command} failed; see the daemon log`;
    }
  }
}
