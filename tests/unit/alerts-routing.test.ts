/**
 * Alert routing (src/alerts/routing.ts): a channel's alerts to its chats when its profile
 * enables the event, box-wide alerts to the box chats or every chat once, and the command
 * allowlist of a bot.
 */
import { describe, expect, it } from "vitest";
import type { Alert } from "../../src/alerts/messages.js";
import { AlertRouter, type ChannelAlertRoute } from "../../src/alerts/routing.js";

const NEWS: ChannelAlertRoute = { botToken: "111:AAA", chatIds: [11, "11", -22], events: ["channel_down", "channel_recovered"] };
const SPORT: ChannelAlertRoute = { botToken: "333:CCC", chatIds: [33, -22], events: ["channel_down"] };
const crash = (channel: string): Alert => ({ kind: "channel_crashed", channel, stderrTail: [], restartNumber: 1, nextRetryInMs: 100 });
const diskLow: Alert = { kind: "disk_low", role: "data", path: "/var/lib/onair", freeBytes: 1 };

describe("AlertRouter", () => {
  it("sends a channel's alert to each of its chats once, through its bot", () => {
    const r = new AlertRouter(undefined);
    r.set("news", NEWS);
    expect(r.routesFor(crash("news"))).toEqual([
      { botId: "111", chatId: "11" },
      { botId: "111", chatId: "-22" },
    ]);
  });

  it("leaves an event the profile does not enable disabled, and a channel without a route unrouted", () => {
    const r = new AlertRouter(undefined);
    r.set("sport", SPORT);
    expect(r.routesFor({ kind: "recovered", channel: "sport", outageMs: 1 })).toBe("disabled");
    expect(r.routesFor(crash("weather"))).toEqual([]);
    r.set("sport", undefined); // removed on reload
    expect(r.routesFor(crash("sport"))).toEqual([]);
  });

  it("sends a box-wide alert to every chat of every channel once without box chats", () => {
    const r = new AlertRouter({});
    r.set("news", NEWS);
    r.set("sport", SPORT);
    expect(r.routesFor(diskLow)).toEqual([
      { botId: "111", chatId: "11" },
      { botId: "111", chatId: "-22" },
      { botId: "333", chatId: "33" },
      { botId: "333", chatId: "-22" },
    ]);
    // a box-wide kind about an unknown channel (a refused profile) goes there too
    const refused: Alert = { kind: "profile_refused", channel: "nope", file: "nope.yaml", code: "ONAIR_PROFILE_INVALID", message: "bad" };
    expect(r.routesFor(refused)).toHaveLength(4);
  });

  it("sends a box-wide alert to the box chats, through the box bot or else the first channel's", () => {
    const own = new AlertRouter({ botToken: "999:ZZZ", chatIds: [7, 7, "@ops"] });
    own.set("news", NEWS);
    expect(own.routesFor(diskLow)).toEqual([
      { botId: "999", chatId: "7" },
      { botId: "999", chatId: "@ops" },
    ]);
    const borrowed = new AlertRouter({ chatIds: [7] });
    expect(borrowed.routesFor(diskLow)).toEqual([]); // no bot known yet
    borrowed.set("sport", SPORT);
    expect(borrowed.routesFor(diskLow)).toEqual([{ botId: "333", chatId: "7" }]);
  });

  it("takes a bot's commands from the chats it sends alerts to", () => {
    const r = new AlertRouter({ botToken: "111:AAA", chatIds: ["@ops"] });
    r.set("news", NEWS);
    r.set("sport", SPORT);
    expect([...r.allowlist("111")].sort()).toEqual(["-22", "11", "@ops"]);
    expect([...r.allowlist("333")].sort()).toEqual(["-22", "33"]);
    expect(r.allowlist("555").size).toBe(0);
  });

  it("gives a channel's own flapping settings, else none", () => {
    const r = new AlertRouter(undefined);
    r.set("news", { ...NEWS, flapping: { restarts: 3, windowMs: 60_000 } });
    expect(r.flapping("news")).toEqual({ restarts: 3, windowMs: 60_000 });
    expect(r.flapping("sport")).toBeUndefined();
  });
});
