/** Public API of src/config: what the daemon, pipeline and CLI use. */
export {
  profileSchema,
  profileJsonSchema,
  defaultServiceType,
  SECRET_PATHS,
  ALERT_EVENTS,
  type ChannelProfile,
  type ChannelProfileInput,
  type ProfileInput,
  type ProfileEncoding,
  type ProfileOutput,
  type AlertEvent,
} from "./profile-schema.js";
export {
  parseProfileText,
  parseProfileData,
  validateProfile,
  redactProfile,
  profileSecrets,
  profileHash,
  formatIssue,
  type ProfileIssue,
} from "./profile.js";
export {
  loadProfileFile,
  profileFromBytes,
  ProfileDirectory,
  type LoadedProfile,
  type RefusedProfile,
  type ProfileSnapshot,
  type ProfileDiff,
  type ProfileDirectoryOptions,
  type KeyProvider,
  type LogSink,
} from "./loader.js";
export { seal, open as openSealed, readSealedHeader, DEFAULT_ARGON, type KeyMaterial, type ArgonParams } from "./sealed.js";
export { resolveKey, locateKey, readKeyFile, readPassphraseFile, generateKeyFile, wipeKey, type KeySourceOptions } from "./keys.js";
export {
  resolveGlobalConfig,
  parseGlobalConfig,
  readSecretRef,
  parseListen,
  DEFAULT_CONFIG_PATH,
  DEFAULT_HTTP,
  type ResolvedConfig,
  type GlobalConfigFlags,
} from "./global.js";
export { SecretSet, redactString, redactValue, REDACTED } from "./redact.js";
export { writeFileAtomic } from "./atomic.js";
