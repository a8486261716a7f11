export type { LogReadResult, ZenrollLog } from './types.js';
export { openLog, openDirectory, journalDir, JOURNAL_KEEP, type OpenLogOptions } from './open.js';
export { Journal, type JournalOptions } from './journal.js';
export { DirectoryLog, type DirectoryLogOptions } from './directory-log.js';
export { LdapDirectory, LOG_ATTR, STATUS_ATTR, DISCARD_ATTR, KEY_ATTR, type LdapDirectoryOptions } from './ldap.js';
export type { LdapSettings, ClientFactory } from './ldap-session.js';
export { refusesRecord } from './ldap-errors.js';
export { serverOfDn } from './dn.js';
export { parseGeneralizedTime, formatGeneralizedTime } from './gtime.js';
export { silentLogger, realTimers, type Logger, type Timers } from './logger.js';
export * from './schema.js';
export {
  descriptionAttributes,
  descriptionFrom,
  parseTraffic,
  trafficText,
  type ServerDescription,
  type Traffic,
} from './self-description.js';
