/** Telegram alerts: typed events, their text, the rules, and the Alerter with its outbox. */
export {
  Alerter,
  routeFromProfile,
  type AlerterCommands,
  type AlerterOptions,
  type AlerterStats,
  type AttemptFailedEvent,
  type ChannelAlertRoute,
  type CommandEvent,
  type NotifyResult,
  type SentEvent,
} from "./alerter.js";
export * from "./messages.js";
export {
  AlertRules,
  ChatRateLimiter,
  DEFAULT_DEDUPE_WINDOW_MS,
  DEFAULT_FLAPPING,
  DEFAULT_RATE_LIMIT,
  type FlappingSettings,
  type RateLimitSettings,
  type SuppressReason,
} from "./rules.js";
export { botIdOf, DEFAULT_API_ROOT, TelegramClient, type FailureReason, type SendOutcome } from "./telegram.js";
