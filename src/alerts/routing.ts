/**
 * Alert routing: which (bot, chat) pairs an alert goes to.
 *
 * - A channel's alert goes to its route's chats, if the route enables the alert's profile
 *   event (`PROFILE_EVENT_OF`; kinds mapped to null are always on); "disabled" otherwise.
 * - A box-wide kind (`BOX_WIDE_KINDS`) of no known channel goes to the box chats: the
 *   configured `box.chatIds` via `box.botToken` (else the first channel's bot), or without
 *   box chats every chat of every channel, each pair once.
 * - The chats a bot may take commands from (its allowlist) are the chats it sends alerts to.
 *
 * Adding an alert kind needs no change here: its text and profile event live in messages.ts.
 */
import type { AlertEvent as ProfileAlertEvent, ChannelProfile } from "../config/profile-schema.js";
import { BOX_WIDE_KINDS, PROFILE_EVENT_OF, type Alert } from "./messages.js";
import type { FlappingSettings } from "./rules.js";
import { botIdOf } from "./telegram.js";

/** Where a channel's alerts go and which ones. */
export interface ChannelAlertRoute {
  /** the bot token (secret; kept in memory only) */
  botToken: string;
  chatIds: readonly (string | number)[];
  /** the profile's `alerts.telegram.events` */
  events: readonly ProfileAlertEvent[];
  /** default 5 restarts in 10 minutes (the profile has no setting yet) */
  flapping?: FlappingSettings | undefined;
}

/** Box-wide alerts' chats (see the module comment). */
export interface BoxRoute {
  botToken?: string | undefined;
  chatIds?: readonly (string | number)[] | undefined;
}

/** One message's destination: the bot's public id and the chat. */
export interface Route {
  botId: string;
  chatId: string;
}

/**
 * The route of a loaded profile: its own bot token or `defaultBotToken` (the global
 * config's, already read from its reference). Undefined when the profile has no Telegram
 * alerts or no token is known.
 */
export function routeFromProfile(p: ChannelProfile, defaultBotToken?: string): ChannelAlertRoute | undefined {
  const t = p.alerts.telegram;
  const token = t?.botToken ?? defaultBotToken;
  if (!t || !token) return undefined;
  return { botToken: token, chatIds: t.chatIds, events: t.events };
}

/** The channels' routes and the box route; answers where an alert goes. */
export class AlertRouter {
  private readonly channels = new Map<string, ChannelAlertRoute>();

  constructor(private readonly box: BoxRoute | undefined) {}

  /** Adds, replaces (profile reload) or removes (undefined) a channel's route. */
  set(id: string, route: ChannelAlertRoute | undefined): void {
    if (route) this.channels.set(id, route);
    else this.channels.delete(id);
  }

  /** The flapping settings a channel's route sets, if any. */
  flapping(channel: string): FlappingSettings | undefined {
    return this.channels.get(channel)?.flapping;
  }

  /** Where an alert goes: "disabled" when its channel's route leaves its event off. */
  routesFor(a: Alert): Route[] | "disabled" {
    const route = a.channel !== undefined ? this.channels.get(a.channel) : undefined;
    if (!route) return BOX_WIDE_KINDS.has(a.kind) ? this.boxRoutes() : [];
    const ev = PROFILE_EVENT_OF[a.kind];
    if (ev !== null && !route.events.includes(ev)) return "disabled";
    const botId = botIdOf(route.botToken);
    return [...new Set(route.chatIds.map(String))].map((chatId) => ({ botId, chatId }));
  }

  /** The chats a bot answers commands from: those it sends alerts to. */
  allowlist(botId: string): Set<string> {
    const s = new Set<string>();
    for (const r of this.channels.values()) if (botIdOf(r.botToken) === botId) for (const c of r.chatIds) s.add(String(c));
    for (const r of this.boxRoutes()) if (r.botId === botId) s.add(r.chatId);
    return s;
  }

  private boxRoutes(): Route[] {
    const out = new Map<string, Route>();
    const add = (token: string, chat: string | number): void => {
      const r = { botId: botIdOf(token), chatId: String(chat) };
      out.set(`${r.botId}:${r.chatId}`, r);
    };
    const chats = this.box?.chatIds;
    if (chats && chats.length > 0) {
      const token = this.box?.botToken ?? [...this.channels.values()][0]?.botToken;
      if (!token) return [];
      for (const c of chats) add(token, c);
    } else {
      for (const r of this.channels.values()) for (const c of r.chatIds) add(r.botToken, c);
    }
    return [...out.values()];
  }
}
