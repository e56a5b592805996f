/**
 * The alert outbox in a real SQLite file: order per queue, leases between processes,
 * sent/failed marking, depth, pruning, the key/value state, and survival across a reopen.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openStore, type Store } from "../../src/store/db.js";
import {
  claimOutboxRow,
  enqueueOutbox,
  getAlertState,
  listOutbox,
  markOutboxFailed,
  markOutboxRetry,
  markOutboxSent,
  outboxDepth,
  outboxHeads,
  pruneOutbox,
  setAlertState,
} from "../../src/store/outbox.js";

let dir: string;
let store: Store;
const file = (): string => path.join(dir, "onair.db");

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "onair-outbox-"));
  store = openStore(file());
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const row = (chatId: string, payload: string) => ({ botId: "42", chatId, channel: "news", kind: "slate_on", payload });

describe("alert outbox", () => {
  it("keeps rows in id order per chat; the head of each chat is its oldest pending row", () => {
    const ids = enqueueOutbox(store, [row("1", "a"), row("2", "b"), row("1", "c")], 1000);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(outboxHeads(store).map((r) => [r.chatId, r.payload])).toEqual([
      ["1", "a"],
      ["2", "b"],
    ]);
    expect(markOutboxSent(store, ids[0], 2000)).toBe(true);
    expect(outboxHeads(store).map((r) => r.payload)).toEqual(["b", "c"]);
    expect(outboxDepth(store)).toBe(2);
  });

  it("marks a row sent once only", () => {
    const [id] = enqueueOutbox(store, [row("1", "a")], 0);
    expect(markOutboxSent(store, id, 10)).toBe(true);
    expect(markOutboxSent(store, id, 20)).toBe(false);
    expect(listOutbox(store)[0].sentMs).toBe(10);
  });

  it("leases a claimed row: another owner cannot take it until the lease expires, the same owner can", () => {
    const [id] = enqueueOutbox(store, [row("1", "a")], 0);
    const claimed = claimOutboxRow(store, id, "onair@a", 40_000, 0);
    expect(claimed?.attempts).toBe(1);
    expect(claimOutboxRow(store, id, "onair@b", 50_000, 39_999)).toBeUndefined();
    expect(claimOutboxRow(store, id, "onair@a", 80_000, 1000)?.attempts).toBe(2);
    expect(claimOutboxRow(store, id, "onair@b", 120_000, 80_000)?.leaseOwner).toBe("onair@b");
  });

  it("puts a row back with a retry time and releases its lease", () => {
    const [id] = enqueueOutbox(store, [row("1", "a")], 0);
    claimOutboxRow(store, id, "x", 40_000, 0);
    markOutboxRetry(store, id, 7000, "rate_limited: 429");
    const r = listOutbox(store)[0];
    expect(r).toMatchObject({ nextAttemptMs: 7000, lastError: "rate_limited: 429", attempts: 1 });
    expect(r.leaseOwner).toBeUndefined();
    expect(claimOutboxRow(store, id, "y", 40_000, 1)).toBeDefined();
  });

  it("gives up a failed row so the chat's next row becomes the head", () => {
    const [a, b] = enqueueOutbox(store, [row("1", "a"), row("1", "b")], 0);
    markOutboxFailed(store, a, 5, "403 Forbidden: bot was blocked by the user");
    expect(outboxHeads(store).map((r) => r.id)).toEqual([b]);
    expect(claimOutboxRow(store, a, "x", 10, 6)).toBeUndefined();
    expect(listOutbox(store, { pending: true }).map((r) => r.id)).toEqual([b]);
  });

  it("deletes only old sent and failed rows", () => {
    const [a, b, c] = enqueueOutbox(store, [row("1", "a"), row("1", "b"), row("1", "c")], 0);
    markOutboxSent(store, a, 100);
    markOutboxFailed(store, b, 5000, "x");
    expect(pruneOutbox(store, 1000)).toBe(1);
    expect(listOutbox(store).map((r) => r.id)).toEqual([b, c]);
  });

  it("stores small state values", () => {
    expect(getAlertState(store, "telegram.offset.42")).toBeUndefined();
    setAlertState(store, "telegram.offset.42", "100");
    setAlertState(store, "telegram.offset.42", "101");
    expect(getAlertState(store, "telegram.offset.42")).toBe("101");
  });

  it("keeps pending rows and state across a close and reopen", () => {
    enqueueOutbox(store, [row("1", "a"), row("1", "b")], 0);
    setAlertState(store, "k", "v");
    store.close();
    store = openStore(file());
    expect(listOutbox(store, { pending: true }).map((r) => r.payload)).toEqual(["a", "b"]);
    expect(getAlertState(store, "k")).toBe("v");
  });

  it("writes all rows of one enqueue or none", () => {
    expect(() => enqueueOutbox(store, [row("1", "a"), { ...row("2", "b"), payload: null as unknown as string }], 0)).toThrow();
    expect(outboxDepth(store)).toBe(0);
  });
});
